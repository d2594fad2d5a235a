//! User Timing marks (`performance.mark`) at the steps `cargo xtask bench app` measures
//! (tests/bench/app.mjs reads them). Marks carry only a step name, never record data.
//! Nothing here decides anything; a browser without User Timing just gets no marks.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = performance, js_name = mark)]
    fn perf_mark(name: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_namespace = performance, js_name = measure)]
    fn perf_measure(name: &str, start: &str, end: &str) -> Result<JsValue, JsValue>;
}

/// `performance.mark(name)`.
pub fn mark(name: &str) {
    let _ = perf_mark(name);
}

/// `performance.mark(end)` and `performance.measure(name, start, end)`.
pub fn measure(name: &str, start: &str, end: &str) {
    mark(end);
    let _ = perf_measure(name, start, end);
}

//! Typed JS errors: a `TypeError` or `RangeError` with a stable `code` property.

use wasm_bindgen::JsValue;

pub struct JsErr(js_sys::Error);

impl JsErr {
    fn with_code(err: js_sys::Error, code: &str) -> JsErr {
        let _ = js_sys::Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(code));
        JsErr(err)
    }

    /// Input of the wrong shape or type.
    pub fn type_error(code: &str, message: &str) -> JsErr {
        JsErr::with_code(js_sys::TypeError::new(message).into(), code)
    }

    /// Attaches a property (e.g. `problems`) to the error object.
    pub fn set(&self, key: &str, value: JsValue) {
        let _ = js_sys::Reflect::set(&self.0, &JsValue::from_str(key), &value);
    }

    /// Reference data (region table, rulebook, model) that does not load.
    pub fn range_error(code: &str, message: &str) -> JsErr {
        JsErr::with_code(js_sys::RangeError::new(message).into(), code)
    }
}

impl From<JsErr> for JsValue {
    fn from(e: JsErr) -> JsValue {
        e.0.into()
    }
}

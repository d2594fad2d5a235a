//! tepat-wasm

//! The only way the window talks to the backend: [`call`] a command described in
//! `guardia-ipc`, get its typed output or an [`IpcError`].

use guardia_ipc::{Command, ErrorCode, IpcError};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// Tauri's invoke, exposed as `window.__TAURI__.core.invoke` by `withGlobalTauri`.
    #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI__", "core"], js_name = invoke)]
    async fn tauri_invoke(command: &str, args: JsValue) -> Result<JsValue, JsValue>;
}

thread_local! {
    /// Told when any command is refused with `SIGN_IN` (the session locked or ended), so
    /// the window shows the sign-in screen wherever the refusal came from.
    static ON_SIGN_IN: std::cell::RefCell<Option<Box<dyn Fn()>>> = const { std::cell::RefCell::new(None) };
}

/// Sets what happens when a command is refused because nobody is signed in.
pub fn on_sign_in_required(action: impl Fn() + 'static) {
    ON_SIGN_IN.with(|slot| *slot.borrow_mut() = Some(Box::new(action)));
}

/// Calls command `C`. Arguments and results cross as JSON text through `JSON.parse` and
/// `JSON.stringify`, which keeps serde's exact shapes (maps stay objects, numbers stay numbers).
pub async fn call<C: Command>(args: C::Args) -> Result<C::Output, IpcError> {
    let answer = call_once::<C>(args).await;
    if let Err(error) = &answer
        && error.code == ErrorCode::SignIn
        && C::NAME != guardia_ipc::session::SignIn::NAME
    {
        ON_SIGN_IN.with(|slot| {
            if let Some(action) = slot.borrow().as_ref() {
                action();
            }
        });
    }
    answer
}

async fn call_once<C: Command>(args: C::Args) -> Result<C::Output, IpcError> {
    let payload = serde_json::to_string(&serde_json::json!({ "args": args }))
        .map_err(|e| protocol(format!("cannot encode the arguments of {}: {e}", C::NAME)))?;
    let payload = js_sys::JSON::parse(&payload)
        .map_err(|_| protocol(format!("cannot pass the arguments of {}", C::NAME)))?;
    match tauri_invoke(C::NAME, payload).await {
        Ok(value) => {
            let text = js_text(&value).unwrap_or_else(|| "null".to_owned());
            serde_json::from_str(&text)
                .map_err(|e| protocol(format!("unexpected answer to {}: {e}", C::NAME)))
        }
        Err(error) => Err(backend_error(C::NAME, &error)),
    }
}

fn js_text(value: &JsValue) -> Option<String> {
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
}

/// Our handlers reject with an `IpcError` object. Anything else (a string from Tauri when it
/// refuses a call, a JS exception when not running inside the console) becomes `PROTOCOL`.
fn backend_error(command: &str, error: &JsValue) -> IpcError {
    if let Some(parsed) = js_text(error).and_then(|t| serde_json::from_str::<IpcError>(&t).ok()) {
        return parsed;
    }
    let detail = error
        .as_string()
        .or_else(|| js_text(error))
        .unwrap_or_else(|| "no details".to_owned());
    protocol(format!("{command}: {detail}"))
}

fn protocol(message: String) -> IpcError {
    IpcError::new(ErrorCode::Protocol, message)
}

#[wasm_bindgen]
extern "C" {
    /// Tauri's event listener, `window.__TAURI__.event.listen`; resolves to an unlisten fn.
    #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI__", "event"], js_name = listen)]
    async fn tauri_listen(event: &str, handler: &js_sys::Function) -> Result<JsValue, JsValue>;
}

/// Calls `handler` with every payload of event `name` for as long as the window lives (the
/// feed is app-wide, so the listener is never removed). Payloads that do not parse are
/// logged and skipped; they would mean the shell and the UI were built from different
/// contracts.
pub async fn listen<T, H>(name: &'static str, mut handler: H) -> Result<(), IpcError>
where
    T: serde::de::DeserializeOwned + 'static,
    H: FnMut(T) + 'static,
{
    let callback = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let payload = js_sys::Reflect::get(&event, &JsValue::from_str("payload"))
            .ok()
            .and_then(|p| js_text(&p));
        match payload.map(|text| serde_json::from_str::<T>(&text)) {
            Some(Ok(value)) => handler(value),
            Some(Err(e)) => leptos::logging::warn!("unexpected {name} payload: {e}"),
            None => leptos::logging::warn!("{name} arrived without a payload"),
        }
    });
    tauri_listen(name, callback.as_ref().unchecked_ref())
        .await
        .map_err(|error| backend_error(name, &error))?;
    // The window keeps listening until it closes.
    callback.forget();
    Ok(())
}

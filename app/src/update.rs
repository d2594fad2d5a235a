//! App updates: a new service worker installs and waits (public/sw.js). The app lets
//! it take over only when no work would be stranded: with an empty outbox and no form
//! open it activates at once (and reloads); otherwise a banner offers to sync first or
//! update now. Queued items keep the rulebook version they were checked under, so an
//! update never re-labels them.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::i18n::tx;
use crate::outbox::use_outbox;
use crate::store;

/// What to do with a waiting update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing would be lost: take the new version now.
    Activate,
    /// Unsynced work or an open form: ask first.
    Ask,
}

/// The decision: activate only with an empty outbox and no form on screen.
pub fn action(unsynced: u32, form_open: bool) -> Action {
    if unsynced == 0 && !form_open {
        Action::Activate
    } else {
        Action::Ask
    }
}

/// True on pages with forms whose input is not saved yet (household and Uji Petik).
pub fn form_page(path: &str) -> bool {
    path.starts_with("/keluarga/")
}

/// The update state in context: a new version waits.
#[derive(Clone, Copy)]
pub struct Update {
    pub waiting: RwSignal<bool>,
}

fn container() -> Option<web_sys::ServiceWorkerContainer> {
    let nav = web_sys::window()?.navigator();
    // Old browsers and insecure origins have no service workers.
    js_sys::Reflect::has(&nav, &JsValue::from_str("serviceWorker"))
        .ok()?
        .then(|| nav.service_worker())
}

fn get(target: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(target, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn listen(target: &JsValue, event: &str, f: impl FnMut() + 'static) {
    if let Some(t) = target.dyn_ref::<web_sys::EventTarget>() {
        let cb = Closure::<dyn FnMut()>::new(f);
        let _ = t.add_event_listener_with_callback(event, cb.as_ref().unchecked_ref());
        // Listeners live as long as the page.
        cb.forget();
    }
}

/// Watches the service worker registration for a waiting version.
pub fn provide_update() -> Update {
    let update = Update {
        waiting: RwSignal::new(false),
    };
    provide_context(update);
    let Some(c) = container() else {
        return update;
    };
    spawn_local(async move {
        // `ready` resolves once a worker is active (after the first install, too).
        let Ok(ready) = c.ready() else { return };
        let Ok(reg) = JsFuture::from(ready).await else {
            return;
        };
        if reg.is_undefined() || reg.is_null() {
            return;
        }
        // An app left open for days still learns of new versions: check every hour.
        if let (Some(w), Ok(check)) = (
            web_sys::window(),
            get(&reg, "update").dyn_into::<js_sys::Function>(),
        ) {
            let target = reg.clone();
            let cb = Closure::<dyn FnMut()>::new(move || {
                // Offline the check fails quietly; the next one tries again.
                if let Ok(p) = check
                    .call0(&target)
                    .and_then(|p| p.dyn_into::<js_sys::Promise>())
                {
                    spawn_local(async move {
                        let _ = JsFuture::from(p).await;
                    });
                }
            });
            let _ = w.set_interval_with_callback_and_timeout_and_arguments_0(
                cb.as_ref().unchecked_ref(),
                3_600_000,
            );
            cb.forget();
        }
        if !get(&reg, "waiting").is_null() && !get(&reg, "waiting").is_undefined() {
            update.waiting.set(true);
        }
        let reg2 = reg.clone();
        listen(&reg, "updatefound", move || {
            let installing = get(&reg2, "installing");
            let worker = installing.clone();
            listen(&installing, "statechange", move || {
                let installed = get(&worker, "state").as_string().as_deref() == Some("installed");
                // With no controller this is the first install, not an update.
                let controlled = container().is_some_and(|c| !get(&c, "controller").is_null());
                if installed && controlled {
                    update.waiting.set(true);
                }
            });
        });
    });
    update
}

/// Tells the waiting service worker to take over, and reloads when it has.
pub async fn activate() {
    thread_local! {
        static STARTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if STARTED.with(|s| s.replace(true)) {
        return;
    }
    let Some(c) = container() else { return };
    let Ok(reg) = JsFuture::from(c.get_registration()).await else {
        return;
    };
    let waiting = get(&reg, "waiting");
    if waiting.is_null() || waiting.is_undefined() {
        return;
    }
    listen(&c, "controllerchange", || {
        if let Some(w) = web_sys::window() {
            let _ = w.location().reload();
        }
    });
    if let Ok(post) = get(&waiting, "postMessage").dyn_into::<js_sys::Function>() {
        let _ = post.call1(&waiting, &JsValue::from_str("SKIP_WAITING"));
    }
}

/// Activates a waiting update when nothing would be lost, else shows the banner.
/// Lives inside the router: it follows the page.
#[component]
pub fn UpdateBanner() -> impl IntoView {
    let outbox = use_outbox();
    let location = leptos_router::hooks::use_location();
    let update = use_context::<Update>().unwrap_or(Update {
        waiting: RwSignal::new(false),
    });
    // Decide whenever an update waits, the outbox changes or the page changes.
    Effect::new(move |_| {
        if !update.waiting.get() {
            return;
        }
        outbox.items.track();
        let path = location.pathname.get();
        spawn_local(async move {
            let unsynced = store::outbox_count().await.unwrap_or(1);
            if action(unsynced, form_page(&path)) == Action::Activate {
                activate().await;
            }
        });
    });
    move || {
        update.waiting.get().then(|| {
            view! {
                <div class="notice warn update" role="alert" data-field="update">
                    <p>{tx("Versi baru tersedia. Sinkronkan dulu atau perbarui sekarang.", "A new version is available. Sync first or update now.")}</p>
                    <p>
                        <a class="button" href="/kotak-keluar">{tx("Sinkronkan dulu", "Sync first")}</a>
                        " "
                        <button type="button" class="secondary" on:click=move |_| spawn_local(activate())>
                            {tx("Perbarui sekarang", "Update now")}
                        </button>
                    </p>
                </div>
            }
        })
    }
}

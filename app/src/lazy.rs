//! Code that the first screens do not need, split out of the app shell.
//!
//! The release build (`crates/xtask/src/build.rs`, feature `split`) links the app with
//! relocations and cuts it with `wasm_split_cli_support` at the functions declared here:
//! each goes, with everything only it reaches, into a wasm module of its own that the
//! browser fetches on the first call (and the service worker precaches, so it works
//! offline). The sign-in, unlock and worklist screens and the outbox's sync stay in
//! the shell (the list reads its small sealed rows, the outbox its items' summaries);
//! the families' reading and writing (`sync`), the rulebook compiler, the outbox
//! screen and the screens of one family (Keluarga, Uji Petik, Cek NIK) do not, nor do
//! the console's screens (the review queue and the other roles' homes).
//!
//! Without the feature (the app's wasm tests) the same functions are
//! plain `async fn`s, so every caller is written once.
//!
//! A module that cannot be fetched (no signal before the service worker had cached it,
//! an app update in between) is a [`LoadError`] the caller shows, never a panic: the
//! split runtime forgets the failure, so the next call tries again.

use std::collections::BTreeMap;
use std::rc::Rc;

use leptos::prelude::*;
use leptos_router::{Lazy, LazyRoute};
use tepat_core::rulebook::Rulebook;

use crate::i18n::{tr, use_lang};
use crate::session::Unlocked;
use crate::sync::Data;
use crate::worklist::{Row, WorkState};

/// A split module could not be fetched or instantiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadError;

impl From<leptos::wasm_split::SplitLoaderError> for LoadError {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        LoadError
    }
}

/// Declares `async fn $name(args) -> Result<T, LoadError>` whose body is split into
/// module `$module` under feature `split`, and is an ordinary async fn otherwise.
macro_rules! split_fn {
    ($module:ident; $(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        #[cfg(feature = "split")]
        #[leptos::wasm_split::wasm_split($module, wasm_split_path = ::leptos::wasm_split, fallible)]
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) -> Result<$ret, LoadError> {
            Ok($body)
        }
        #[cfg(not(feature = "split"))]
        $(#[$meta])*
        $vis async fn $name($($arg: $ty),*) -> Result<$ret, LoadError> {
            Ok($body)
        }
    };
}

split_fn! { rules;
    /// Compiles a rulebook's JSON (`Rulebook::from_json`): parsing, the expression
    /// compiler and the checks of the rulebook format.
    pub fn compile_rulebook(json: &str) -> Result<Rulebook, String> {
        Rulebook::from_json(json).map_err(|e| e.to_string())
    }
}

/// A future a split function hands back: its code is in the split module.
pub type Boxed<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T>>>;

split_fn! { data;
    /// `sync::load`'s second part: the sealed families read and parsed, the rulebook.
    pub fn open_families(
        data: Data,
        unlocked: Unlocked,
        shown: Option<Vec<Row>>,
        states: BTreeMap<String, WorkState>,
        synced: Option<String>,
    ) -> Boxed<()> {
        Box::pin(crate::sync::open_families(data, unlocked, shown, states, synced))
    }
}

split_fn! { data;
    /// `sync::pull`'s work: the pages read, merged, sealed and stored.
    pub fn pull_pages(data: Data, unlocked: Unlocked) -> Boxed<()> {
        Box::pin(crate::sync::pull_pages(data, unlocked))
    }
}

split_fn! { data;
    /// `outbox::fetch_outcomes`: what became of the changes waiting for the supervisor.
    pub fn fetch_outcomes(unlocked: Unlocked) -> Boxed<Result<(), crate::api::ApiError>> {
        Box::pin(async move { crate::outbox::fetch_outcomes(&unlocked).await })
    }
}

split_fn! { data;
    /// `outbox::discard`: an item removed, or a rejected change put aside.
    pub fn discard(outbox: crate::outbox::Outbox, unlocked: Unlocked, id: String) -> Boxed<()> {
        Box::pin(async move { crate::outbox::discard(outbox, &unlocked, &id).await })
    }
}

split_fn! { data;
    /// Whether the server says now that the account may not push at all.
    pub fn refused_for_role(token: String) -> Boxed<bool> {
        Box::pin(async move { crate::api::me(&token).await.is_ok_and(|u| !u.may_write()) })
    }
}

split_fn! { keluarga;
    fn household_view() -> AnyView {
        view! { <crate::routes::household::HouseholdPage/> }.into_any()
    }
}

split_fn! { uji_petik;
    fn uji_petik_view() -> AnyView {
        // An account that may not push gets no form it could not send.
        view! {
            <crate::routes::household::WritersOnly>
                <crate::routes::uji_petik::UjiPetikPage/>
            </crate::routes::household::WritersOnly>
        }
        .into_any()
    }
}

split_fn! { kotak_keluar;
    fn outbox_view() -> AnyView {
        view! { <crate::routes::outbox::OutboxPage/> }.into_any()
    }
}

split_fn! { cek_nik;
    fn nik_view() -> AnyView {
        view! { <crate::routes::nik::NikCheck/> }.into_any()
    }
}

split_fn! { beranda;
    /// The facilitator's Beranda once unlocked: the day's work at a glance.
    pub fn dashboard_view(unlocked: Unlocked) -> AnyView {
        crate::routes::home::dashboard(unlocked)
    }
}

split_fn! { recover;
    /// The unlock screen's rare forms: the account's password after too many wrong
    /// PINs, and "Lupa PIN?" (with the sign-out that keeps the sealed outbox).
    pub fn recover_view(step: RwSignal<crate::routes::unlock::Step>) -> AnyView {
        crate::routes::unlock::rare_step(step)
    }
}

/// What a route shows when its module could not be loaded.
pub fn load_failed() -> AnyView {
    let lang = use_lang();
    view! {
        <section class="card" role="alert">
            <p class="notice">{move || tr(lang.get(),
                "Bagian aplikasi ini belum tersimpan di perangkat dan tidak dapat diunduh sekarang. Periksa sinyal, lalu muat ulang halaman.",
                "This part of the app is not on the device yet and cannot be downloaded now. Check the signal, then reload the page.")}</p>
            <p><a href="/tugas">{move || tr(lang.get(), "Kembali ke Daftar Tugas", "Back to the worklist")}</a></p>
        </section>
    }
    .into_any()
}

macro_rules! lazy_route {
    ($route:ident, $view:ident) => {
        /// A route whose screen lives in a split module.
        pub struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            async fn view(_: Self) -> AnyView {
                $view().await.unwrap_or_else(|LoadError| load_failed())
            }
        }
    };
}

split_fn! { partisipasi;
    fn participation_view() -> AnyView {
        view! { <crate::routes::partisipasi::ParticipationPage/> }.into_any()
    }
}

lazy_route!(HouseholdRoute, household_view);
lazy_route!(ParticipationRoute, participation_view);
lazy_route!(UjiPetikRoute, uji_petik_view);
lazy_route!(NikRoute, nik_view);
lazy_route!(OutboxRoute, outbox_view);

/// The route views for the router.
pub fn household() -> Lazy<HouseholdRoute> {
    Lazy::new()
}

pub fn uji_petik() -> Lazy<UjiPetikRoute> {
    Lazy::new()
}

pub fn nik() -> Lazy<NikRoute> {
    Lazy::new()
}

pub fn outbox() -> Lazy<OutboxRoute> {
    Lazy::new()
}

/// The public participation page (no account).
pub fn participation() -> Lazy<ParticipationRoute> {
    Lazy::new()
}

split_fn! { console;
    fn console_view() -> AnyView {
        view! { <crate::routes::console::ConsoleScreen/> }.into_any()
    }
}

lazy_route!(ConsoleRoute, console_view);

/// The console's routes (every role but the facilitator): one module, one route view
/// that shows the screen of the path.
pub fn console() -> Lazy<ConsoleRoute> {
    Lazy::new()
}

/// Compiles the rulebook; a module that cannot be loaded reads as an unreadable book.
pub async fn rulebook(json: &str) -> Option<Rc<Rulebook>> {
    match compile_rulebook(json).await {
        Ok(Ok(rb)) => Some(Rc::new(rb)),
        _ => None,
    }
}

//! Riwayat: a household's server versions (cached for offline use) and this device's
//! changes to it, on the household page.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::history::{
    self, DeviceChange, DeviceState, Log, device_changes, local_time, version_kind,
};
use crate::i18n::{tr, tx, use_lang};
use crate::outbox::use_outbox;
use crate::routes::events::kind_label;
use crate::session::{AuthState, use_auth};

/// Where the versions shown came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Loading,
    Server,
    /// The server could not be reached; the device's copy is shown.
    Device,
    /// The server answered that it holds no such family in the account's area (404: an
    /// unknown family and one outside the area get the same answer).
    NotFound,
}

#[component]
pub fn History(no_kk: String) -> impl IntoView {
    let lang = use_lang();
    let auth = use_auth();
    let outbox = use_outbox();
    let log = RwSignal::new(Log::default());
    let source = RwSignal::new(Source::Loading);
    if let AuthState::Unlocked(u) = auth.get_untracked() {
        let no_kk = no_kk.clone();
        spawn_local(async move {
            log.set(history::load(&u).await);
            match api::household_history(&u.session.token, &no_kk).await {
                Ok(versions) => {
                    log.set(history::put_versions(&u, &no_kk, versions).await);
                    source.set(Source::Server);
                }
                Err(api::ApiError::Server { status: 404, .. }) => source.set(Source::NotFound),
                Err(_) => source.set(Source::Device),
            }
        });
    }
    let zone = tepat_core::region::time_zone_of(&no_kk);
    let kk = StoredValue::new(no_kk);
    let versions = move || {
        let l = lang.get();
        let sent = outbox.sent.get();
        log.with(|log| {
            let list = kk.with_value(|k| log.versions.get(k).cloned()).unwrap_or_default();
            list.iter()
                .rev()
                .map(|v| {
                    let kind = version_kind(v, &sent).map(|k| kind_label(k).get(l).to_owned());
                    let mine = kind.is_some();
                    view! {
                        <li data-version=v.version>
                            <strong>{format!("{} {}", tr(l, "Versi", "Version"), v.version)}</strong>
                            " · " {local_time(&v.created_at, zone, l)}
                            {kind.map(|k| view! { " · " {k} })}
                            {mine.then(|| view! { " · " <em>{tr(l, "dari perangkat ini", "from this device")}</em> })}
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let changes = move || {
        let l = lang.get();
        let list: Vec<DeviceChange> = outbox.items.with(|q| {
            outbox
                .sent
                .with(|sent| kk.with_value(|k| device_changes(k, q, sent)))
        });
        if list.is_empty() {
            return view! { <p>{tr(l, "Belum ada perubahan dari perangkat ini.", "No changes from this device yet.")}</p> }.into_any();
        }
        view! {
            <ul class="history" data-field="device-changes">
                {list.into_iter().map(|c| {
                    let version = c.version.map(|v| format!(" ({} {v})", tr(l, "versi", "version")));
                    view! {
                        <li data-kind=c.kind.clone() data-state=c.state.key() data-id=c.id.clone()>
                            <strong>{kind_label(&c.kind).get(l).to_owned()}</strong>
                            " · " {local_time(&c.time, zone, l)} " · "
                            <span data-field="outcome">{outcome_text(&c, zone, l)}</span>
                            {version}
                        </li>
                    }
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <section class="card" data-field="history">
            <h2>{tx("Riwayat", "History")}</h2>
            <h3>{tx("Versi data di server", "Versions on the server")}</h3>
            <p role="status" data-field="history-source">{move || match source.get() {
                Source::Loading => tr(lang.get(), "Memuat riwayat…", "Loading the history…"),
                Source::Server => tr(lang.get(), "Riwayat terbaru dari server.", "Latest history from the server."),
                Source::Device => tr(lang.get(),
                    "Tidak ada sambungan: riwayat yang tersimpan di perangkat.",
                    "No connection: the history stored on the device."),
                Source::NotFound => tr(lang.get(),
                    "Keluarga tidak ada di wilayah tugas Anda di server.",
                    "The family is not in your area on the server."),
            }}</p>
            <ul class="history" data-field="versions">{versions}</ul>
            <h3>{tx("Perubahan dari perangkat ini", "Changes from this device")}</h3>
            {changes}
        </section>
    }
}

/// A change's state as one sentence: "disetujui oleh koordinator1, 6 Des 2026 03.38
/// WIB" or "ditolak: <the reviewer's note> — oleh …", else the state's label.
pub fn outcome_text(
    c: &DeviceChange,
    zone: tepat_core::region::TimeZone,
    l: tepat_core::Lang,
) -> String {
    let mut out = c.state.label().get(l).to_owned();
    if c.state == DeviceState::ReviewRejected
        && let Some(note) = c.note.as_deref()
    {
        out = format!("{out}: {note}");
    }
    if matches!(c.state, DeviceState::Approved | DeviceState::ReviewRejected) {
        let by = c.decided_by.as_deref().unwrap_or("?");
        let at = c
            .decided_at
            .as_deref()
            .map(|t| local_time(t, zone, l))
            .unwrap_or_default();
        let sep = if c.state == DeviceState::ReviewRejected {
            " —"
        } else {
            ""
        };
        out = format!("{out}{sep} {} {by}, {at}", tr(l, "oleh", "by"));
    }
    out
}

//! Akun: the admin's (and Dinsos's, for its regency) accounts: the list with filters
//! and each facilitator's worklist size, a new account, and an account's page (disable
//! or enable, a new password, the assignment editor with region pickers by name). The
//! server decides who may do what; these screens show its answers.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tepat_core::Lang;

use super::{ConsoleNav, ForRoles, role_label, use_unlocked};
use crate::api::ApiError;
use crate::api::console::{
    Account, NewAccount, RegionName, accounts, create_account, move_village, region_children,
    reset_password, set_assignments, set_disabled,
};
use crate::i18n::{tr, tx, use_lang};

/// Roles that manage accounts.
pub fn manages(role: &str) -> bool {
    matches!(role, "admin" | "dinsos_admin")
}

#[component]
pub fn AccountsPage() -> impl IntoView {
    view! {
        <ForRoles allowed=manages>
            <List/>
        </ForRoles>
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <ForRoles allowed=manages>
            <One/>
        </ForRoles>
    }
}

/// The roles the caller may create: Dinsos facilitators and koordinators only.
fn creatable(caller: &str) -> &'static [&'static str] {
    if caller == "admin" {
        &[
            "facilitator",
            "supervisor",
            "dinsos_admin",
            "analyst",
            "admin",
        ]
    } else {
        &["facilitator", "supervisor"]
    }
}

/// The code length (dotted) of a role's assignments: village, district, regency.
fn level_len(role: &str) -> Option<usize> {
    match role {
        "facilitator" => Some(13),
        "supervisor" => Some(8),
        "dinsos_admin" => Some(5),
        _ => None,
    }
}

/// Where the caller's region pickers start: Dinsos at its regency, the admin at the
/// provinces.
fn picker_root(role: &str, districts: &[String]) -> Option<String> {
    (role != "admin")
        .then(|| {
            districts
                .first()
                .and_then(|d| d.get(..5))
                .map(str::to_owned)
        })
        .flatten()
}

fn area_text(l: Lang, a: &Account) -> String {
    if a.assignments.is_empty() {
        return if level_len(&a.role).is_none() {
            tr(l, "Nasional", "National").to_owned()
        } else {
            tr(l, "Belum ditugaskan", "Not assigned").to_owned()
        };
    }
    a.assignments
        .iter()
        .map(|r| r.name.clone().unwrap_or_else(|| r.code.clone()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `/akun`: the list and the new-account form under the console's header.
#[component]
fn List() -> impl IntoView {
    if use_unlocked().is_none() {
        return ().into_any();
    }
    view! {
        <div class="console">
            <section class="card">
                <h1>{tx("Akun", "Accounts")}</h1>
                <ConsoleNav/>
            </section>
            <Manager/>
        </div>
    }
    .into_any()
}

/// The accounts with filters, and the new-account form (`/akun`, and the admin's home).
#[component]
pub fn Manager() -> impl IntoView {
    let lang = use_lang();
    let Some(u) = use_unlocked() else {
        return ().into_any();
    };
    let token = StoredValue::new(u.session.token.clone());
    let caller = u.session.user.role.clone();
    let root = picker_root(&caller, &u.session.user.districts);
    let data = RwSignal::new(None::<Result<Vec<Account>, ApiError>>);
    let load = move || {
        spawn_local(async move { data.set(Some(accounts(&token.get_value()).await)) });
    };
    load();
    let query = RwSignal::new(String::new());
    let role = RwSignal::new(String::new());
    let state = RwSignal::new(String::new());
    let role_options = move || {
        let l = lang.get();
        [
            "facilitator",
            "supervisor",
            "dinsos_admin",
            "analyst",
            "admin",
        ]
        .into_iter()
        .map(|r| view! { <option value=r>{role_label(l, r)}</option> })
        .collect_view()
    };
    let rows = move || {
        let l = lang.get();
        match data.get() {
            None => view! { <p class="notice" role="status">{tr(l, "Memuat…", "Loading…")}</p> }
                .into_any(),
            Some(Err(e)) => {
                view! { <p class="finding error" role="alert">{e.message(l)}</p> }.into_any()
            }
            Some(Ok(list)) => {
                let q = query.get().trim().to_lowercase();
                let (want_role, want_state) = (role.get(), state.get());
                let shown: Vec<Account> = list
                    .into_iter()
                    .filter(|a| want_role.is_empty() || a.role == want_role)
                    .filter(|a| match want_state.as_str() {
                        "active" => !a.disabled,
                        "disabled" => a.disabled,
                        _ => true,
                    })
                    .filter(|a| {
                        q.is_empty()
                            || a.username.contains(&q)
                            || a.display_name
                                .as_deref()
                                .is_some_and(|d| d.to_lowercase().contains(&q))
                            || area_text(l, a).to_lowercase().contains(&q)
                    })
                    .collect();
                let count = match l {
                    Lang::Id => format!("{} akun", shown.len()),
                    Lang::En => format!("{} accounts", shown.len()),
                };
                let body = shown
                    .into_iter()
                    .map(|a| {
                        let state = if a.disabled { tr(l, "Nonaktif", "Disabled") } else { tr(l, "Aktif", "Active") };
                        let worklist = a.worklist.map_or_else(|| "—".to_owned(), |n| n.to_string());
                        view! {
                            <tr data-username=a.username.clone() data-disabled=a.disabled.to_string()>
                                <td><a href=format!("/akun/{}", a.username)>{a.username.clone()}</a>
                                    <br/><span class="muted">{a.display_name.clone().unwrap_or_default()}</span></td>
                                <td>{role_label(l, &a.role)}</td>
                                <td data-field="area">{area_text(l, &a)}</td>
                                <td data-field="worklist">{worklist}</td>
                                <td data-field="state">{state}</td>
                            </tr>
                        }
                    })
                    .collect_view();
                view! {
                    <p data-field="account-count">{count}</p>
                    <table class="members accounts">
                        <thead><tr>
                            <th>{tr(l, "Akun", "Account")}</th>
                            <th>{tr(l, "Peran", "Role")}</th>
                            <th>{tr(l, "Wilayah tugas", "Assigned area")}</th>
                            <th>{tr(l, "Daftar tugas (keluarga)", "Worklist (families)")}</th>
                            <th>{tr(l, "Status", "State")}</th>
                        </tr></thead>
                        <tbody>{body}</tbody>
                    </table>
                }
                .into_any()
            }
        }
    };
    view! {
            <section class="card">
                <h2>{tx("Daftar akun", "Account list")}</h2>
                <div class="filters">
                    <div>
                        <label for="a-query">{tx("Cari", "Search")}</label>
                        <input id="a-query" type="search" prop:value=move || query.get()
                            on:input=move |ev| query.set(event_target_value(&ev))/>
                    </div>
                    <div>
                        <label for="a-role">{tx("Peran", "Role")}</label>
                        <select id="a-role" on:change=move |ev| role.set(event_target_value(&ev))>
                            <option value="">{tx("Semua peran", "All roles")}</option>
                            {role_options}
                        </select>
                    </div>
                    <div>
                        <label for="a-state">{tx("Status", "State")}</label>
                        <select id="a-state" on:change=move |ev| state.set(event_target_value(&ev))>
                            <option value="">{tx("Semua", "All")}</option>
                            <option value="active">{tx("Aktif", "Active")}</option>
                            <option value="disabled">{tx("Nonaktif", "Disabled")}</option>
                        </select>
                    </div>
                </div>
            </section>
            <section class="card" data-field="accounts">{rows}</section>
            <Create token=token.get_value() caller=caller root=root on_done=Callback::new(move |()| load())/>
    }
    .into_any()
}

/// The new-account form.
#[component]
fn Create(
    token: String,
    caller: String,
    root: Option<String>,
    on_done: Callback<()>,
) -> impl IntoView {
    let lang = use_lang();
    let token = StoredValue::new(token);
    let roles = creatable(&caller);
    let form = RwSignal::new(NewAccount {
        role: roles[0].to_owned(),
        ..NewAccount::default()
    });
    let busy = RwSignal::new(false);
    let result = RwSignal::new(None::<Result<Account, ApiError>>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        let new = form.get_untracked();
        spawn_local(async move {
            let r = create_account(&token.get_value(), &new).await;
            if r.is_ok() {
                form.update(|f| {
                    f.username.clear();
                    f.display_name.clear();
                    f.password.clear();
                    f.regions.clear();
                });
                on_done.run(());
            }
            result.set(Some(r));
            busy.set(false);
        });
    };
    let role_options = move || {
        let l = lang.get();
        roles
            .iter()
            .map(|r| view! { <option value=*r>{role_label(l, r)}</option> })
            .collect_view()
    };
    let text = move |field: fn(&mut NewAccount) -> &mut String| {
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            form.update(|f| *field(f) = v);
        }
    };
    let picked = move || {
        let l = lang.get();
        form.with(|f| f.regions.clone())
            .into_iter()
            .map(|c| {
                let c2 = c.clone();
                view! {
                    <li data-code=c.clone()>{c.clone()}" "
                        <button type="button" class="secondary" on:click=move |_| form.update(|f| f.regions.retain(|r| *r != c2))>
                            {tr(l, "Hapus", "Remove")}</button>
                    </li>
                }
            })
            .collect_view()
    };
    // The picker follows the role only, not every keystroke in the form.
    let role = Memo::new(move |_| form.with(|f| f.role.clone()));
    let picker = move || {
        level_len(&role.get()).map(|len| {
            view! {
                <RegionPicker token=token.get_value() root=root.clone() len=len
                    on_pick=Callback::new(move |r: RegionName| form.update(|f| {
                        if !f.regions.contains(&r.code) {
                            f.regions.push(r.code);
                        }
                    }))/>
                <ul class="picked">{picked}</ul>
            }
        })
    };
    let outcome = move || {
        let l = lang.get();
        result.get().map(|r| match r {
            Ok(a) => view! {
                <p class="notice" role="status" data-field="created">
                    {tr(l, "Akun dibuat:", "Account created:")}" "<a href=format!("/akun/{}", a.username)>{a.username.clone()}</a>
                </p>
            }
            .into_any(),
            Err(e) => view! { <p class="finding error" role="alert" data-field="create-error">{e.message(l)}</p> }.into_any(),
        })
    };
    view! {
        <section class="card" data-field="create-account">
            <h2>{tx("Akun baru", "New account")}</h2>
            <form on:submit=submit>
                <label for="n-username">{tx("Nama pengguna (a–z, 0–9, . _ -)", "Username (a–z, 0–9, . _ -)")}</label>
                <input id="n-username" autocomplete="off" required prop:value=move || form.with(|f| f.username.clone())
                    on:input=text(|f| &mut f.username)/>
                <label for="n-display">{tx("Nama lengkap", "Full name")}</label>
                <input id="n-display" autocomplete="off" prop:value=move || form.with(|f| f.display_name.clone())
                    on:input=text(|f| &mut f.display_name)/>
                <label for="n-role">{tx("Peran", "Role")}</label>
                <select id="n-role" on:change=move |ev| {
                    let v = event_target_value(&ev);
                    form.update(|f| { f.role = v; f.regions.clear(); });
                }>{role_options}</select>
                <label for="n-password">{tx("Kata sandi (minimal 10 karakter)", "Password (at least 10 characters)")}</label>
                <input id="n-password" type="password" autocomplete="new-password" required
                    prop:value=move || form.with(|f| f.password.clone()) on:input=text(|f| &mut f.password)/>
                {picker}
                <p class="actions"><button type="submit" disabled=move || busy.get()>{tx("Buat akun", "Create account")}</button></p>
            </form>
            {outcome}
        </section>
    }
}

/// Picks a region of one level by name: from the root (the provinces, or Dinsos's
/// regency) one level at a time down to regions of `len` (dotted code length).
#[component]
fn RegionPicker(
    token: String,
    root: Option<String>,
    len: usize,
    on_pick: Callback<RegionName>,
) -> impl IntoView {
    let lang = use_lang();
    let token = StoredValue::new(token);
    // The chosen path below the root: (code, name) per level.
    let path = RwSignal::new(Vec::<RegionName>::new());
    let options = RwSignal::new(None::<Result<Vec<RegionName>, ApiError>>);
    let chosen = RwSignal::new(String::new());
    let root = StoredValue::new(root);
    Effect::new(move |_| {
        let parent = path
            .with(|p| p.last().map(|r| r.code.clone()))
            .or_else(|| root.get_value());
        options.set(None);
        chosen.set(String::new());
        spawn_local(async move {
            options.set(Some(
                region_children(&token.get_value(), parent.as_deref()).await,
            ));
        });
    });
    let at_level = move || {
        options.with(|o| match o {
            Some(Ok(list)) => list.first().is_some_and(|r| r.code.len() == len),
            _ => false,
        })
    };
    let crumbs = move || {
        path.get()
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                view! {
                    " › "<button type="button" class="link" on:click=move |_| path.update(|p| p.truncate(i + 1))>{r.name.clone()}</button>
                }
            })
            .collect_view()
    };
    let select = move || {
        let l = lang.get();
        match options.get() {
            None => view! { <p class="muted" role="status">{tr(l, "Memuat wilayah…", "Loading regions…")}</p> }.into_any(),
            Some(Err(e)) => view! { <p class="finding error" role="alert">{e.message(l)}</p> }.into_any(),
            Some(Ok(list)) => {
                let drill = !at_level();
                let opts = list
                    .iter()
                    .filter(|r| r.code.len() <= len)
                    .map(|r| view! { <option value=r.code.clone()>{r.name.clone()}" ("{r.code.clone()}")"</option> })
                    .collect_view();
                let list2 = list.clone();
                let change = move |ev: leptos::ev::Event| {
                    let v = event_target_value(&ev);
                    if drill {
                        if let Some(r) = list2.iter().find(|r| r.code == v) {
                            let r = r.clone();
                            path.update(|p| p.push(r));
                        }
                    } else {
                        chosen.set(v);
                    }
                };
                let prompt = if drill {
                    tr(l, "Pilih untuk membuka…", "Choose to open…")
                } else {
                    tr(l, "Pilih wilayah…", "Choose a region…")
                };
                view! {
                    <select id="region-pick" data-field="region-pick" data-level=if drill { "open" } else { "pick" } on:change=change>
                        <option value="">{prompt}</option>
                        {opts}
                    </select>
                }
                .into_any()
            }
        }
    };
    view! {
        <div class="picker" data-field="region-picker">
            <label for="region-pick">{tx("Wilayah tugas", "Assigned area")}</label>
            <p class="muted">
                <button type="button" class="link" on:click=move |_| path.set(Vec::new())>{tx("Awal", "Top")}</button>
                {crumbs}
            </p>
            {select}
            <button type="button" class="secondary" data-field="region-add" disabled=move || !at_level() || chosen.with(String::is_empty)
                on:click=move |_| {
                    let code = chosen.get_untracked();
                    let picked = options.with_untracked(|o| match o {
                        Some(Ok(list)) => list.iter().find(|r| r.code == code).cloned(),
                        _ => None,
                    });
                    if let Some(r) = picked {
                        on_pick.run(r);
                    }
                }>{tx("Tambahkan", "Add")}</button>
        </div>
    }
}

#[component]
fn One() -> impl IntoView {
    let lang = use_lang();
    let Some(u) = use_unlocked() else {
        return ().into_any();
    };
    let params = leptos_router::hooks::use_params_map();
    let username = params.with_untracked(|p| p.get("username").unwrap_or_default());
    let token = StoredValue::new(u.session.token.clone());
    let caller = u.session.user.role.clone();
    let root = StoredValue::new(picker_root(&caller, &u.session.user.districts));
    let account = RwSignal::new(None::<Result<Option<Account>, ApiError>>);
    // The other active facilitators the caller manages: where a village can move to.
    let others = RwSignal::new(Vec::<String>::new());
    let name = StoredValue::new(username.clone());
    let load = move || {
        spawn_local(async move {
            let r = accounts(&token.get_value()).await.map(|list| {
                others.set(
                    list.iter()
                        .filter(|a| {
                            a.role == "facilitator" && !a.disabled && a.username != name.get_value()
                        })
                        .map(|a| a.username.clone())
                        .collect(),
                );
                list.into_iter().find(|a| a.username == name.get_value())
            });
            account.set(Some(r));
        });
    };
    load();
    let message = RwSignal::new(None::<Result<&'static str, ApiError>>);
    let busy = RwSignal::new(false);
    // The assignments being edited (codes and names); saved with one request.
    let editing = RwSignal::new(None::<Vec<(String, String)>>);
    let body = move || {
        let l = lang.get();
        match account.get() {
            None => view! { <p class="notice" role="status">{tr(l, "Memuat…", "Loading…")}</p> }.into_any(),
            Some(Err(e)) => view! { <p class="finding error" role="alert">{e.message(l)}</p> }.into_any(),
            Some(Ok(None)) => view! { <p class="finding error" role="alert">{tr(l,
                "Akun ini tidak ada atau di luar wilayah Anda.", "This account does not exist or is outside your area.")}</p> }.into_any(),
            Some(Ok(Some(a))) => {
                let disabled = a.disabled;
                let toggle = move |_| {
                    busy.set(true);
                    spawn_local(async move {
                        let r = set_disabled(&token.get_value(), &name.get_value(), !disabled).await;
                        message.set(Some(r.map(|_| if disabled { "enabled" } else { "disabled" })));
                        busy.set(false);
                        load();
                    });
                };
                let worklist = a.worklist.map(|n| view! {
                    <dt>{tr(l, "Daftar tugas", "Worklist")}</dt>
                    <dd data-field="worklist">{match l { Lang::Id => format!("{n} keluarga"), Lang::En => format!("{n} families") }}</dd>
                });
                let current: Vec<(String, String)> = a.assignments.iter()
                    .map(|r| (r.code.clone(), r.name.clone().unwrap_or_else(|| r.code.clone()))).collect();
                let facilitator = a.role == "facilitator";
                let assigned = a.assignments.iter().map(|r| {
                    let families = r.families.map(|n| match l { Lang::Id => format!(" · {n} keluarga"), Lang::En => format!(" · {n} families") });
                    let mover = facilitator.then(|| view! { <MoveVillage code=r.code.clone() token=token.get_value() message=message busy=busy
                        others=others on_done=Callback::new(move |()| load())/> });
                    view! { <li data-code=r.code.clone()>{r.name.clone().unwrap_or_else(|| r.code.clone())}" ("{r.code.clone()}")"{families}{mover}</li> }
                }).collect_view();
                let editor = level_len(&a.role).map(|len| {
                    let start = current.clone();
                    view! {
                        <section class="card" data-field="assignments">
                            <h2>{tr(l, "Penugasan wilayah", "Assignments")}</h2>
                            <ul>{assigned}</ul>
                            {move || match editing.get() {
                                None => {
                                    let start = start.clone();
                                    view! { <button type="button" data-field="edit-assignments" on:click=move |_| editing.set(Some(start.clone()))>
                                        {tx("Ubah penugasan", "Change assignments")}</button> }.into_any()
                                }
                                Some(list) => {
                                    let items = list.into_iter().map(|(code, label)| {
                                        let (c, shown) = (code.clone(), format!("{label} ({code})"));
                                        view! { <li data-code=code>{shown}" "
                                            <button type="button" class="secondary" on:click=move |_| editing.update(|e| if let Some(e) = e { e.retain(|x| x.0 != c) })>
                                                {tx("Lepaskan", "Remove")}</button></li> }
                                    }).collect_view();
                                    let save = move |_| {
                                        let codes: Vec<String> = editing.get_untracked().unwrap_or_default().into_iter().map(|x| x.0).collect();
                                        busy.set(true);
                                        spawn_local(async move {
                                            let r = set_assignments(&token.get_value(), &name.get_value(), &codes).await;
                                            if r.is_ok() {
                                                editing.set(None);
                                            }
                                            message.set(Some(r.map(|_| "assigned")));
                                            busy.set(false);
                                            load();
                                        });
                                    };
                                    view! {
                                        <ul class="picked" data-field="editing">{items}</ul>
                                        <RegionPicker token=token.get_value() root=root.get_value() len=len on_pick=Callback::new(move |r: RegionName| {
                                            editing.update(|e| if let Some(e) = e && !e.iter().any(|x| x.0 == r.code) { e.push((r.code, r.name)); });
                                        })/>
                                        <p class="actions">
                                            <button type="button" data-field="save-assignments" disabled=move || busy.get() on:click=save>{tx("Simpan penugasan", "Save assignments")}</button>
                                            <button type="button" class="secondary" on:click=move |_| editing.set(None)>{tx("Batal", "Cancel")}</button>
                                        </p>
                                        <p class="muted">{tx(
                                            "Keluarga di desa yang dipindahkan pindah ke daftar tugas pendamping barunya pada sinkronisasi berikutnya.",
                                            "Families of a moved village move to the new facilitator's worklist on the next sync.")}</p>
                                    }.into_any()
                                }
                            }}
                        </section>
                    }
                });
                view! {
                    <section class="card">
                        <dl class="decoded">
                            <dt>{tr(l, "Nama pengguna", "Username")}</dt><dd data-field="username">{a.username.clone()}</dd>
                            <dt>{tr(l, "Nama lengkap", "Full name")}</dt><dd>{a.display_name.clone().unwrap_or_else(|| "—".into())}</dd>
                            <dt>{tr(l, "Peran", "Role")}</dt><dd>{role_label(l, &a.role)}</dd>
                            <dt>{tr(l, "Wilayah tugas", "Assigned area")}</dt><dd data-field="area">{area_text(l, &a)}</dd>
                            {worklist}
                            <dt>{tr(l, "Status", "State")}</dt>
                            <dd data-field="state">{if disabled { tr(l, "Nonaktif", "Disabled") } else { tr(l, "Aktif", "Active") }}</dd>
                        </dl>
                        <p class="actions">
                            <button type="button" data-field="toggle-disabled" class=if disabled { "" } else { "secondary" }
                                disabled=move || busy.get() on:click=toggle>
                                {if disabled { tr(l, "Aktifkan lagi", "Enable again") } else { tr(l, "Nonaktifkan", "Disable") }}</button>
                            <a class="button secondary" href=format!("/riwayat?user={}", a.username)>{tr(l, "Riwayat akun", "Account history")}</a>
                        </p>
                    </section>
                    {editor}
                    <Password token=token.get_value() username=a.username.clone() message=message/>
                }
                .into_any()
            }
        }
    };
    let note = move || {
        let l = lang.get();
        message.get().map(|m| match m {
            Ok(what) => {
                let text = match what {
                    "enabled" => tr(l, "Akun diaktifkan lagi.", "The account is enabled again."),
                    "disabled" => tr(l, "Akun dinonaktifkan; sesinya berakhir.", "The account is disabled; its sessions ended."),
                    "password" => tr(l, "Kata sandi baru disimpan.", "The new password is saved."),
                    "moved" => tr(l, "Desa dipindahkan ke pendamping lain.", "The village moved to another facilitator."),
                    _ => tr(l, "Penugasan disimpan.", "The assignments are saved."),
                };
                view! { <p class="notice" role="status" data-field="account-message">{text}</p> }.into_any()
            }
            Err(e) => view! { <p class="finding error" role="alert" data-field="account-error">{e.message(l)}</p> }.into_any(),
        })
    };
    view! {
        <div class="console">
            <section class="card">
                <h1>{tx("Akun", "Account")}" "{username}</h1>
                <ConsoleNav/>
                <p><a href="/akun">{tx("← Semua akun", "← All accounts")}</a></p>
            </section>
            {note}
            {body}
        </div>
    }
    .into_any()
}

/// Moves one village of this facilitator to another facilitator, in one request.
#[component]
fn MoveVillage(
    code: String,
    token: String,
    message: RwSignal<Option<Result<&'static str, ApiError>>>,
    busy: RwSignal<bool>,
    others: RwSignal<Vec<String>>,
    on_done: Callback<()>,
) -> impl IntoView {
    let lang = use_lang();
    let chosen = RwSignal::new(String::new());
    let (code, token) = (StoredValue::new(code), StoredValue::new(token));
    let go = move |_| {
        let to = chosen.get_untracked();
        if to.is_empty() {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let r = move_village(&token.get_value(), &code.get_value(), &to).await;
            message.set(Some(r.map(|_| "moved")));
            busy.set(false);
            on_done.run(());
        });
    };
    let options = move || {
        others
            .get()
            .into_iter()
            .map(|u| view! { <option value=u.clone()>{u.clone()}</option> })
            .collect_view()
    };
    view! {
        " "
        <span class="move" data-field="move-village">
            <select aria-label=move || format!("{} {}", tr(lang.get(), "Pindahkan desa", "Move the village"), code.get_value())
                on:change=move |ev| chosen.set(event_target_value(&ev))>
                <option value="">{tx("Pindahkan ke…", "Move to…")}</option>
                {options}
            </select>
            " "
            <button type="button" class="secondary" data-field="move-village-go"
                disabled=move || busy.get() || chosen.with(String::is_empty) on:click=go>
                {tx("Pindahkan", "Move")}</button>
        </span>
    }
}

/// A new password for the account.
#[component]
fn Password(
    token: String,
    username: String,
    message: RwSignal<Option<Result<&'static str, ApiError>>>,
) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let (token, username) = (StoredValue::new(token), StoredValue::new(username));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        let p = password.get_untracked();
        spawn_local(async move {
            let r = reset_password(&token.get_value(), &username.get_value(), &p).await;
            if r.is_ok() {
                password.set(String::new());
            }
            message.set(Some(r.map(|()| "password")));
            busy.set(false);
        });
    };
    view! {
        <section class="card" data-field="password">
            <h2>{tx("Atur ulang kata sandi", "Reset the password")}</h2>
            <form on:submit=submit>
                <label for="r-password">{tx("Kata sandi baru (minimal 10 karakter)", "New password (at least 10 characters)")}</label>
                <input id="r-password" type="password" autocomplete="new-password" required
                    prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
                <p class="actions"><button type="submit" disabled=move || busy.get()>{tx("Simpan kata sandi", "Save the password")}</button></p>
            </form>
        </section>
    }
}

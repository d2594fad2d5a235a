//! The state every field of the form shares: the draft, the corrected family and its
//! findings, and each field's own signals.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;
use tepat_core::rulebook::{Rulebook, VarType};
use tepat_core::{Finding, Keluarga, ValidationContext};

use crate::draft::{self, Draft, read, show};
use crate::regions::use_regions;
use crate::today::today;

/// Everything a field needs, shared by the whole form.
#[derive(Clone, Copy)]
pub(super) struct Ctx {
    pub draft: RwSignal<Draft>,
    /// The family as the worklist holds it, and in its JSON form.
    pub base: StoredValue<Keluarga>,
    base_json: StoredValue<Value>,
    /// The family as corrected by the draft, and in its JSON form.
    pub family: Memo<Keluarga>,
    family_json: Memo<Value>,
    /// Every finding on the corrected family (tepat-core's validation of the draft).
    pub findings: Memo<Vec<Finding>>,
    pub rb: StoredValue<Rc<Rulebook>, LocalStorage>,
    /// Every field's own signals, set by [`Ctx::update_now`] and [`Ctx::update_late`].
    fields: StoredValue<Vec<FieldState>>,
    /// Every message list beside a field, by field key.
    messages: StoredValue<Vec<(String, RwSignal<Vec<Finding>>)>>,
    /// The whole questionnaire is shown, not only the key variables.
    pub full: RwSignal<bool>,
    /// Key questions asked of this family: (checked, asked).
    pub progress: RwSignal<(usize, usize)>,
}

/// One field's answer, visibility and error state. The form sets them when they
/// change, so a change re-runs the views of the fields it touches only (not ~500
/// memos on the same sources, whose subscriber bookkeeping alone was quadratic).
#[derive(Clone)]
pub(super) struct FieldState {
    key: String,
    var_id: String,
    member: Option<usize>,
    /// A key variable (the rulebook's flag): asked by default, answered "sesuai" or corrected.
    is_key: bool,
    pub value: RwSignal<Value>,
    pub visible: RwSignal<bool>,
    pub error: RwSignal<bool>,
    /// The draft changes the answer (a correction, or text still to fix).
    pub changed: RwSignal<bool>,
    /// The facilitator found the recorded answer right.
    pub right: RwSignal<bool>,
}

impl Ctx {
    /// The form's state for `base` under `rb`: the corrected family and its findings
    /// follow the draft.
    pub fn new(base: Keluarga, rb: Rc<Rulebook>, draft: RwSignal<Draft>) -> Ctx {
        let regions = use_regions();
        let base_json = StoredValue::new(tepat_core::to_tree(&base).unwrap_or(Value::Null));
        let base = StoredValue::new(base);
        let rb = StoredValue::new_local(rb);
        let family = Memo::new(move |_| {
            draft.with(|d| base.with_value(|b| d.family(b).unwrap_or_else(|_| b.clone())))
        });
        let family_json =
            Memo::new(move |_| family.with(|k| tepat_core::to_tree(k).unwrap_or_default()));
        let findings = Memo::new(move |_| {
            let Some(now) = today() else {
                return Vec::new();
            };
            regions.table.with(|table| {
                let Some(table) = table.as_ref() else {
                    return Vec::new();
                };
                rb.with_value(|rb| {
                    let ctx = ValidationContext {
                        rulebook: rb,
                        regions: table,
                        today: now,
                    };
                    draft.with(|d| base.with_value(|b| d.findings(b, &ctx)))
                })
            })
        });
        Ctx {
            draft,
            base,
            base_json,
            family,
            family_json,
            findings,
            rb,
            fields: StoredValue::new(Vec::new()),
            messages: StoredValue::new(Vec::new()),
            full: RwSignal::new(false),
            progress: RwSignal::new((0, 0)),
        }
    }

    /// Keeps the fields up to date in two steps: at once what the facilitator looks at
    /// (the messages beside the fields and in the summary, error states, answers), and
    /// after the next paint what can follow a frame later (visibility of the other
    /// questions, and the returned family for the score preview).
    pub fn follow_changes(self) -> RwSignal<Keluarga> {
        Effect::new(move |_| self.update_now());
        let family = self.family;
        let family_late = RwSignal::new(family.get_untracked());
        let late = StoredValue::new(0u64);
        Effect::new(move |first: Option<()>| {
            family.track();
            self.draft.track();
            if first.is_none() {
                return;
            }
            late.update_value(|g| *g += 1);
            let mine = late.get_value();
            spawn_local(async move {
                crate::after_paint().await;
                // Newer change meanwhile (it runs this again), or the form is gone.
                if late.try_get_value() != Some(mine) {
                    return;
                }
                self.update_late();
                if let Some(k) = family.try_get_untracked() {
                    family_late.try_set(k);
                }
            });
        });
        family_late
    }

    fn value(&self, key: &str) -> Value {
        self.family_json.with_untracked(|j| read(j, key))
    }
    /// Whether the skip logic asks field `key` (or it holds an answer to clear).
    fn visible(&self, f: &FieldState, family: &Keluarga, value: &Value) -> bool {
        let relevant = today().and_then(|now| {
            self.rb
                .with_value(|rb| rb.is_relevant(&f.var_id, family, f.member, now))
        });
        relevant != Some(false)
            || !value.is_null()
            || self
                .draft
                .with_untracked(|d| d.invalid.contains_key(&f.key))
    }
    fn has_error(findings: &[Finding], key: &str) -> bool {
        findings.iter().any(|f| f.path == key && f.is_error())
    }
    /// Registers a field's signals, set to their current state.
    pub fn field(
        &self,
        key: &str,
        var_id: &str,
        member: Option<usize>,
        is_key: bool,
    ) -> FieldState {
        let value = self.value(key);
        let (changed, right) = self.draft.with_untracked(|d| Ctx::marks(d, key));
        let mut f = FieldState {
            key: key.to_owned(),
            var_id: var_id.to_owned(),
            member,
            is_key,
            value: RwSignal::new(Value::Null),
            visible: RwSignal::new(true),
            error: RwSignal::new(self.findings.with_untracked(|all| Ctx::has_error(all, key))),
            changed: RwSignal::new(changed),
            right: RwSignal::new(right),
        };
        let visible = self.family.with_untracked(|k| self.visible(&f, k, &value));
        f.visible = RwSignal::new(visible);
        f.value = RwSignal::new(value);
        self.fields.update_value(|all| all.push(f.clone()));
        f
    }
    /// (the draft changes the answer at `key`, the answer was found right)
    fn marks(d: &Draft, key: &str) -> (bool, bool) {
        let changed = d.values.contains_key(key) || d.invalid.contains_key(key);
        (changed, !changed && d.checked.contains(key))
    }
    /// Counts the key questions asked and those checked.
    pub fn count_progress(&self) {
        let counts = self.fields.with_value(|list| {
            list.iter()
                .filter(|f| f.is_key && f.visible.get_untracked())
                .fold((0, 0), |(done, all), f| {
                    let checked = f.changed.get_untracked() || f.right.get_untracked();
                    (done + usize::from(checked), all + 1)
                })
        });
        if self.progress.get_untracked() != counts {
            self.progress.set(counts);
        }
    }
    /// Marks the answer at `key` as found right (again: unmarks it), keeping the
    /// recorded answer.
    pub fn toggle_right(&self, key: &str) {
        self.draft.update(|d| {
            if d.checked.contains(key) && !d.values.contains_key(key) {
                d.checked.remove(key);
            } else {
                d.mark_right(key);
            }
        });
    }
    /// The recorded answer at `key` as an input shows it.
    pub fn base_text(&self, key: &str) -> String {
        self.base_json.with_value(|b| show(&read(b, key)))
    }
    /// Registers a message list beside field `key`, set to its current findings.
    pub fn messages(&self, key: &str) -> RwSignal<Vec<Finding>> {
        let mine = self
            .findings
            .with_untracked(|all| draft::of_path(all, key).into_iter().cloned().collect());
        let signal = RwSignal::new(mine);
        self.messages
            .update_value(|all| all.push((key.to_owned(), signal)));
        signal
    }
    /// After a change, right away: each field's findings, error state and answer
    /// (the message beside the field is the budget: ≤ 16 ms).
    fn update_now(&self) {
        self.findings.with(|all| {
            self.messages.with_value(|list| {
                for (key, signal) in list {
                    let mine = draft::of_path(all, key);
                    let same = signal.with_untracked(|old| {
                        old.len() == mine.len() && old.iter().zip(&mine).all(|(a, b)| a == *b)
                    });
                    if !same {
                        signal.set(mine.into_iter().cloned().collect());
                    }
                }
            });
            self.fields.with_value(|list| {
                for f in list {
                    let error = Ctx::has_error(all, &f.key);
                    if f.error.get_untracked() != error {
                        f.error.set(error);
                    }
                }
            });
        });
        self.family_json.with(|j| {
            self.fields.with_value(|list| {
                for f in list {
                    let value = read(j, &f.key);
                    if f.value.with_untracked(|old| *old != value) {
                        f.value.set(value);
                    }
                }
            });
        });
        self.draft.with(|d| {
            self.fields.with_value(|list| {
                for f in list {
                    let (changed, right) = Ctx::marks(d, &f.key);
                    if f.changed.get_untracked() != changed {
                        f.changed.set(changed);
                    }
                    if f.right.get_untracked() != right {
                        f.right.set(right);
                    }
                }
            });
        });
        self.count_progress();
    }
    /// After the next paint: each field's visibility (skip logic over every variable).
    fn update_late(&self) {
        self.family.with_untracked(|k| {
            self.fields.with_value(|list| {
                for f in list {
                    let visible = f.value.with_untracked(|v| self.visible(f, k, v));
                    if f.visible.get_untracked() != visible {
                        f.visible.set(visible);
                    }
                }
            });
        });
        self.count_progress();
    }
    /// The text a typed input starts with. Typed inputs are written only by the user,
    /// so they are not bound to the (trimmed, parsed) value while typing.
    pub fn initial_text(&self, key: &str) -> String {
        self.draft
            .with_untracked(|d| d.invalid.get(key).cloned())
            .unwrap_or_else(|| show(&self.family_json.with_untracked(|j| read(j, key))))
    }
    pub fn set_text(&self, key: &str, ty: VarType, text: &str) {
        self.base_json
            .with_value(|b| self.draft.update(|d| d.set_text(b, key, ty, text)));
    }
    pub fn set(&self, key: &str, value: Value) {
        self.base_json
            .with_value(|b| self.draft.update(|d| d.set(b, key, value)));
    }
}

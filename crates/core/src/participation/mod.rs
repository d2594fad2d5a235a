//! Public participation: a citizen's usul (a family left out) or sanggah (an objection
//! to a recipient family) as a case that moves through states, by data.
//!
//! The states, which role may take which action from which state, the verification
//! window, the duplicate window, the monthly cut-off and pull days and the reason codes
//! live in a versioned file (`crates/core/model/participation-2026.json`). [`Rules::decide`]
//! says whether an action may be taken on a case and what state follows;
//! [`Rules::check_filing`] (in `filing`) decides a filing from the facts the caller
//! looked up. No clock: "today" is passed in.

mod filing;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::finding::Text;

pub use filing::{
    Filer, FilerFamily, Filing, FilingFacts, FilingOutcome, ProposedMember, Target, TargetFamily,
};

/// The file format this code reads (`format` field).
pub const PARTICIPATION_FORMAT: &str = "tepat-participation/1";

const BUILTIN_TEXT: &str = include_str!("../../model/participation-2026.json");

/// What a citizen files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A family proposed for the register (or, already in it, for a ground check).
    Usul,
    /// An objection to a family in the register.
    Sanggah,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Usul => "usul",
            Kind::Sanggah => "sanggah",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        match text {
            "usul" => Some(Kind::Usul),
            "sanggah" => Some(Kind::Sanggah),
            _ => None,
        }
    }
}

/// A case's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Filed,
    Checked,
    Deliberation,
    Agreed,
    NotAgreed,
    Verification,
    Verified,
    Declined,
    Expired,
    Ranked,
}

impl State {
    pub const ALL: [State; 10] = [
        State::Filed,
        State::Checked,
        State::Deliberation,
        State::Agreed,
        State::NotAgreed,
        State::Verification,
        State::Verified,
        State::Declined,
        State::Expired,
        State::Ranked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Filed => "filed",
            State::Checked => "checked",
            State::Deliberation => "deliberation",
            State::Agreed => "agreed",
            State::NotAgreed => "not_agreed",
            State::Verification => "verification",
            State::Verified => "verified",
            State::Declined => "declined",
            State::Expired => "expired",
            State::Ranked => "ranked",
        }
    }

    pub fn parse(text: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reason code with its label.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    pub id: String,
    pub label: Text,
}

/// One state as the file declares it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateSource {
    pub id: State,
    pub label: Text,
    /// No action leads out of it.
    #[serde(default)]
    pub r#final: bool,
}

/// One action: from which states, to which (none: the state stays, e.g. a visit
/// request), by which roles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub id: String,
    pub from: Vec<State>,
    #[serde(default)]
    pub to: Option<State>,
    /// Role names as the caller gives them (`public`, `system`, `operator_desa`,
    /// `dinsos_admin`, …; `review`: only by approving a change in the review queue).
    pub roles: Vec<String>,
    /// Needs a deliberation record (berita acara) or an SPTJM.
    #[serde(default)]
    pub needs_record: bool,
    /// Only while the case's verification window is open.
    #[serde(default)]
    pub within_window: bool,
    /// The reason list a reason code must come from (required when set).
    #[serde(default)]
    pub reasons: Option<String>,
    pub label: Text,
}

/// The participation rules file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesSource {
    pub format: String,
    pub version: String,
    #[serde(default)]
    pub source: String,
    /// Days Dinsos has to decide a case of this kind once the village agreed; a kind
    /// not named has no window.
    pub verification_days: BTreeMap<String, u32>,
    /// The same filer, target and kind within this many hours is one case.
    pub duplicate_hours: u32,
    /// The monthly cut-off day: a case verified on or before it goes to this month's pull.
    pub cutoff_day: u8,
    /// The monthly pull day.
    pub pull_day: u8,
    pub max_reason_chars: usize,
    /// How many times a declined case may be appealed.
    pub appeals: u32,
    pub states: Vec<StateSource>,
    pub actions: Vec<Action>,
    /// Reason lists by name: `usul` and `sanggah` (filing), and those actions name.
    pub reasons: BTreeMap<String, Vec<Reason>>,
}

/// A rules file that does not load: where and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RulesError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for RulesError {}

/// Why a filing or an action is refused: a stable code, the field it concerns and a
/// message in both languages. No message holds a submitted value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub code: String,
    pub path: String,
    pub message: Text,
}

impl Refusal {
    pub(crate) fn new(
        code: &str,
        path: &str,
        id: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Refusal {
            code: code.to_owned(),
            path: path.to_owned(),
            message: Text::new(id, en),
        }
    }
}

/// What [`Rules::decide`] needs to know of a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaseFacts {
    pub kind: Kind,
    /// The stored state.
    pub state: State,
    /// The day the village agreed (the verification window starts then).
    pub agreed_on: Option<Date>,
}

/// An action asked for: by which role, with which reason code, with a deliberation
/// record or SPTJM or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    pub action: &'a str,
    pub role: &'a str,
    pub reason: Option<&'a str>,
    pub has_record: bool,
}

/// The answer of [`Rules::decide`]: the state after the action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decided {
    pub from: State,
    pub to: State,
}

/// The participation rules, checked at load.
#[derive(Clone, Debug)]
pub struct Rules {
    source: RulesSource,
}

impl Rules {
    /// Loads rules from JSON text.
    pub fn from_json(text: &str) -> Result<Rules, RulesError> {
        let source: RulesSource = crate::json::from_str(text).map_err(|e| RulesError {
            path: e.path,
            message: e.message,
        })?;
        Rules::compile(source)
    }

    /// The rules shipped in the crate.
    pub fn builtin() -> &'static Rules {
        static RULES: OnceLock<Rules> = OnceLock::new();
        RULES.get_or_init(|| {
            Rules::from_json(BUILTIN_TEXT)
                .unwrap_or_else(|e| panic!("the embedded participation rules do not load: {e}"))
        })
    }

    pub fn builtin_json() -> &'static str {
        BUILTIN_TEXT
    }

    /// Checks rules already in memory: every state declared once, action ids unique,
    /// reason lists named by actions present, days in a month.
    pub fn compile(source: RulesSource) -> Result<Rules, RulesError> {
        let err = |path: &str, message: String| {
            Err(RulesError {
                path: path.to_owned(),
                message,
            })
        };
        if source.format != PARTICIPATION_FORMAT {
            return err(
                "format",
                format!(
                    "expected \"{PARTICIPATION_FORMAT}\", found {:?}",
                    source.format
                ),
            );
        }
        if source.version.trim().is_empty() {
            return err("version", "must not be empty".into());
        }
        for s in State::ALL {
            if source.states.iter().filter(|d| d.id == s).count() != 1 {
                return err("states", format!("state {s} must be declared exactly once"));
            }
        }
        let mut ids = HashSet::new();
        for (i, a) in source.actions.iter().enumerate() {
            if !ids.insert(a.id.as_str()) {
                return err(&format!("actions[{i}].id"), format!("{:?} twice", a.id));
            }
            if a.roles.is_empty() {
                return err(&format!("actions[{i}].roles"), "no role may take it".into());
            }
            if let Some(list) = &a.reasons
                && !source.reasons.contains_key(list)
            {
                return err(
                    &format!("actions[{i}].reasons"),
                    format!("no reason list {list:?}"),
                );
            }
        }
        for k in ["file", "check", "expire", "enter_ranking"] {
            if !ids.contains(k) {
                return err("actions", format!("the action {k:?} is missing"));
            }
        }
        for kind in [Kind::Usul, Kind::Sanggah] {
            if !source.reasons.contains_key(kind.as_str()) {
                return err(
                    "reasons",
                    format!("the reason list {:?} is missing", kind.as_str()),
                );
            }
        }
        for (name, day) in [
            ("cutoff_day", source.cutoff_day),
            ("pull_day", source.pull_day),
        ] {
            if !(1..=28).contains(&day) {
                return err(name, "must be a day 1–28".into());
            }
        }
        Ok(Rules { source })
    }

    pub fn version(&self) -> &str {
        &self.source.version
    }

    pub fn source(&self) -> &RulesSource {
        &self.source
    }

    pub fn state_label(&self, state: State) -> Text {
        self.source
            .states
            .iter()
            .find(|s| s.id == state)
            .map(|s| s.label.clone())
            .unwrap_or_else(|| Text::new(state.as_str(), state.as_str()))
    }

    pub fn is_final(&self, state: State) -> bool {
        self.source
            .states
            .iter()
            .any(|s| s.id == state && s.r#final)
            || !self.source.actions.iter().any(|a| a.from.contains(&state))
    }

    pub fn action(&self, id: &str) -> Option<&Action> {
        self.source.actions.iter().find(|a| a.id == id)
    }

    /// The reason `code` of the list `list`, if declared.
    pub fn reason(&self, list: &str, code: &str) -> Option<&Reason> {
        self.source.reasons.get(list)?.iter().find(|r| r.id == code)
    }

    pub fn duplicate_secs(&self) -> i64 {
        i64::from(self.source.duplicate_hours) * 3600
    }

    /// The last day Dinsos may decide a case (inclusive), when its kind has a window and
    /// the village agreed.
    pub fn deadline(&self, case: &CaseFacts) -> Option<Date> {
        let days = *self.source.verification_days.get(case.kind.as_str())?;
        let agreed = case.agreed_on?;
        Date::from_days_since_epoch(agreed.days_since_epoch() + i64::from(days))
    }

    /// The state a case is in on `today`: the stored one, or `expired` when its window
    /// passed while it waited for Dinsos.
    pub fn state_on(&self, case: &CaseFacts, today: Date) -> State {
        let waiting = self
            .action("expire")
            .is_some_and(|a| a.from.contains(&case.state));
        match self.deadline(case) {
            Some(d) if waiting && today > d => State::Expired,
            _ => case.state,
        }
    }

    /// Whether `req` may be taken on `case` on `today`, and the state that follows.
    ///
    /// Refusals: `action.unknown`, `action.role` (the role may not take it),
    /// `action.decided` (the case is closed: a second decision), `action.state` (not
    /// from this state: a skipped step), `action.expired` (the window passed; the
    /// caller records `expire`), `action.record` (no berita acara or SPTJM),
    /// `action.reason` (a reason code missing or not in its list).
    pub fn decide(
        &self,
        case: &CaseFacts,
        req: Request<'_>,
        today: Date,
    ) -> Result<Decided, Refusal> {
        let Some(action) = self.action(req.action) else {
            return Err(Refusal::new(
                "action.unknown",
                "action",
                "Tindakan tidak dikenal.",
                "Unknown action.",
            ));
        };
        if !action.roles.iter().any(|r| r == req.role) {
            return Err(Refusal::new(
                "action.role",
                "action",
                format!(
                    "Peran Anda tidak dapat melakukan tindakan ini ({}).",
                    action.label.id
                ),
                format!("Your role may not take this action ({}).", action.label.en),
            ));
        }
        let state = self.state_on(case, today);
        if state == State::Expired && req.action != "expire" {
            return Err(Refusal::new(
                "action.expired",
                "action",
                "Batas waktu verifikasi sudah lewat; pengajuan dianggap tidak layak.",
                "The verification window has passed; the case is deemed not eligible.",
            ));
        }
        if !action.from.contains(&case.state) {
            return Err(
                if self.is_final(case.state) || action.to == Some(case.state) {
                    Refusal::new(
                        "action.decided",
                        "action",
                        format!(
                            "Pengajuan ini sudah selesai ({}); tidak dapat diputuskan lagi.",
                            self.state_label(case.state).id
                        ),
                        format!(
                            "This case is closed ({}); it cannot be decided again.",
                            self.state_label(case.state).en
                        ),
                    )
                } else {
                    let from: Vec<String> = action
                        .from
                        .iter()
                        .map(|s| self.state_label(*s).id)
                        .collect();
                    let from_en: Vec<String> = action
                        .from
                        .iter()
                        .map(|s| self.state_label(*s).en)
                        .collect();
                    Refusal::new(
                        "action.state",
                        "action",
                        format!(
                            "Tahap ini belum dapat dilakukan: pengajuan berstatus {}, tindakan ini hanya dari: {}.",
                            self.state_label(case.state).id,
                            from.join(", ")
                        ),
                        format!(
                            "This step cannot be taken yet: the case is {}, and this action is only from: {}.",
                            self.state_label(case.state).en,
                            from_en.join(", ")
                        ),
                    )
                },
            );
        }
        if req.action == "expire" && state != State::Expired {
            return Err(Refusal::new(
                "action.state",
                "action",
                "Batas waktu verifikasi belum lewat.",
                "The verification window has not passed.",
            ));
        }
        if action.needs_record && !req.has_record {
            return Err(Refusal::new(
                "action.record",
                "deliberation_id",
                "Lampirkan berita acara musyawarah desa/kelurahan atau SPTJM.",
                "Attach the village deliberation's berita acara or an SPTJM.",
            ));
        }
        if let Some(list) = &action.reasons {
            match req.reason {
                Some(code) if self.reason(list, code).is_some() => {}
                _ => {
                    return Err(Refusal::new(
                        "action.reason",
                        "reason",
                        "Pilih alasan dari daftar.",
                        "Choose a reason from the list.",
                    ));
                }
            }
        } else if let Some(code) = req.reason
            && self.reason("not_agreed", code).is_none()
            && self.reason("declined", code).is_none()
        {
            return Err(Refusal::new(
                "action.reason",
                "reason",
                "Kode alasan tidak dikenal.",
                "Unknown reason code.",
            ));
        }
        Ok(Decided {
            from: case.state,
            to: action.to.unwrap_or(case.state),
        })
    }

    /// Whether a case in `state`, itself an appeal or not, appealed `appeals` times
    /// already, may be appealed (as a new ticket linked to it).
    pub fn check_appeal(&self, state: State, is_appeal: bool, appeals: u32) -> Result<(), Refusal> {
        if state != State::Declined {
            return Err(Refusal::new(
                "appeal.state",
                "appeal_of",
                "Hanya pengajuan yang ditolak Dinas Sosial yang dapat diajukan banding.",
                "Only a case declined by Dinsos can be appealed.",
            ));
        }
        if is_appeal || appeals >= self.source.appeals {
            return Err(Refusal::new(
                "appeal.used",
                "appeal_of",
                "Banding untuk pengajuan ini sudah pernah diajukan.",
                "This case has already been appealed.",
            ));
        }
        Ok(())
    }

    /// The day of the monthly pull that takes a case verified on `verified_on`: this
    /// month's when on or before the cut-off day, else next month's.
    pub fn pull_date(&self, verified_on: Date) -> Date {
        let (mut y, mut m) = (verified_on.year(), verified_on.month());
        if verified_on.day() > self.source.cutoff_day {
            if m == 12 {
                y += 1;
                m = 1;
            } else {
                m += 1;
            }
        }
        Date::from_ymd(y, m, self.source.pull_day).unwrap_or(verified_on)
    }

    /// The quarter (`2026Q4`) whose ranking takes a case verified on `verified_on`: the
    /// quarter of its pull.
    pub fn ranking_quarter(&self, verified_on: Date) -> String {
        let pull = self.pull_date(verified_on);
        format!("{}Q{}", pull.year(), (pull.month() - 1) / 3 + 1)
    }
}

#[cfg(test)]
mod tests;

//! One screen per file.

pub mod console;
pub mod events;
pub mod history;
pub mod home;
pub mod household;
pub mod nik;
pub mod outbox;
pub mod partisipasi;
pub mod score;
pub mod sign_in;
pub mod title;
pub mod uji_petik;
pub mod unlock;
pub mod worklist;

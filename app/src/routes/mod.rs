//! One screen per file.

pub mod home;
pub mod household;
pub mod life_event;
pub mod nik;
pub mod outbox;
pub mod sign_in;
pub mod unlock;
pub mod worklist;

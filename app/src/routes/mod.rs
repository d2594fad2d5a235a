//! One screen per file.

pub mod home;
pub mod household;
pub mod nik;
pub mod sign_in;
pub mod unlock;
pub mod worklist;

//! "Today" for the core, read from the device clock at the edge (the core reads no clock).

use tepat_core::Date;

/// The device's local calendar date, or `None` if its clock gives an impossible value.
pub fn today() -> Option<Date> {
    let now = js_sys::Date::new_0();
    let (year, month, day) = (now.get_full_year(), now.get_month() + 1, now.get_date());
    Date::from_ymd(
        i32::try_from(year).ok()?,
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
    )
}

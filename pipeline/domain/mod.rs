//! Domain types every stage shares: the calendar month, the report period and the date helpers of
//! the warehouse's storage. A leaf: it imports nothing from the crate, so any stage
//! may use it without an import running against the flow (see README § Architecture).

pub mod calendar;
pub mod month;
pub mod period;

pub use month::{Month, MonthError};
pub use period::{Period, PeriodKind, Quarter, Year};

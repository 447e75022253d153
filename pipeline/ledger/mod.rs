//! The individual-account ledger (个人账户): the pure engine and the stage that
//! replays every person from the warehouse.

pub mod engine;

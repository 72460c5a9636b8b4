//! bsic: a policy-as-code compiler for Apple software-update and Background Security
//! Improvement (BSI) settings.
pub mod cli;
pub mod sign;

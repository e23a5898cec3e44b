//! The end-to-end tests, in one test binary: each module starts real servers and
//! real `tumbuh` clients on real SQLite files. One binary instead of one per file
//! keeps the build small (each would link the whole server) and fast to link.

mod access;
mod cli;
mod consent;
mod crash;
mod district_merge;
mod district_review;
mod district_verval;
mod hostile;
mod import_cli;
mod limits;
mod link_cli;
mod openapi;
mod people_signin;
mod privacy_logs;
mod role_matrix;
mod server_kill9;
mod store_at_rest;
mod sync_bundle;
mod sync_converge;
mod sync_demo;
mod sync_faults;
mod sync_interop;
mod sync_scope;
mod tls;
mod verval_verify;
mod zscore_batch;

//! API tests: each starts a real server (`TestApp`) on 127.0.0.1:0 with a temporary data
//! directory and talks to it through the client SDK over the real protocols.

mod abuse;
mod accounts;
mod bad_input;
mod blocks;
mod cli;
mod cluster;
mod connect;
mod contacts;
mod contract;
mod durability;
mod expressions;
mod files;
mod flags;
mod groups;
mod helpers;
mod maintenance;
mod media;
mod odd_input;
mod permissions;
mod previews;
mod profiles;
mod reactions;
mod saved;
mod scenario;
mod scheduled;
mod search;
mod server_info;
mod signals;
mod space_matrix;
mod space_people;
mod spaces;
mod sync;
mod tls;
mod transports;
mod web;

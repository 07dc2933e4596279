//! Rivet's CPU layer (placeholder while the arch modules are written).
#![no_std]

//! Arm PL011 UART driver (placeholder).
#![no_std]

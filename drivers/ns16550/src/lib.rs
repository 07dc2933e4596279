//! NS16550A UART driver (placeholder).
#![no_std]

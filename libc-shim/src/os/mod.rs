//! The OS-backed half of the C library (helper B's area): placeholder until it lands.

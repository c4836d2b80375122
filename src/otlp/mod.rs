//! OTLP request handling shared by the receivers: lenient JSON decoding and per-item validation.

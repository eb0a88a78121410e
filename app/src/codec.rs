//! The encoding of every server function's arguments, answer and typed error: JSON, read from text.
//!
//! Leptos reads the resources a page was rendered with back from the document with
//! `serde_json::from_str`, the live stream's events arrive as text, and the browser reads each
//! answer from its text ([`crate::api::call`]). server_fn's own JSON encoding reads with
//! `serde_json::from_slice`, which would compile every shared type's deserializer a second time,
//! for a byte reader; reading text everywhere keeps one copy of each (`end2end/bench/console.mjs`
//! measures the bundle).

use leptos::server_fn::{ContentType, Decodes, Encodes, Format, FormatType, codec::Post};
use serde::{Serialize, de::DeserializeOwned};

/// JSON written with `serde_json::to_vec` and read, once checked as UTF-8, with `from_str`.
pub struct JsonText;

/// Arguments as JSON in a `POST` body; the answer as [`JsonText`].
pub type Json = Post<JsonText>;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<leptos::server_fn::Bytes, Self::Error> {
        serde_json::to_vec(output).map(Into::into)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: leptos::server_fn::Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            <serde_json::Error as serde::de::Error>::custom(format_args!("not UTF-8: {e}"))
        })?;
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_it_wrote_and_refuses_bytes_that_are_not_text() {
        let bytes = <JsonText as Encodes<Vec<String>>>::encode(&vec!["ä".into()]).unwrap();
        let back: Vec<String> = <JsonText as Decodes<Vec<String>>>::decode(bytes).unwrap();
        assert_eq!(back, vec!["ä".to_string()]);

        let bad = leptos::server_fn::Bytes::from_static(b"[\"\xff\"]");
        let err = <JsonText as Decodes<Vec<String>>>::decode(bad).unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");
    }
}

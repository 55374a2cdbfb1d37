//! The NUL check over a decoded request: a serializer that produces nothing and walks
//! every string (and map key) of the value, stopping at the first that holds U+0000 and
//! naming its field path (`text.text`, `messageIds[1]`, `metadata["k"]`). Walking the
//! `Serialize` implementation covers every field of every message, including ones added
//! later, which a per-field rule would not.

use std::fmt;

use serde::ser::{self, Serialize};

use crate::error::ApiError;

/// Refuses any string in `value` that contains U+0000, naming its field.
pub(crate) fn check_strings<T: Serialize>(value: &T) -> Result<(), ApiError> {
    let mut walker = Walker { path: Vec::new() };
    match value.serialize(&mut walker) {
        Ok(()) => Ok(()),
        Err(Found::Nul(path)) => {
            Err(ApiError::malformed(format!("field {path}: text must not contain the NUL character (U+0000)")))
        }
        // Serialising a decoded message cannot fail otherwise; nothing to refuse.
        Err(Found::Other(_)) => Ok(()),
    }
}

#[derive(Debug)]
enum Found {
    Nul(String),
    Other(String),
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::Nul(p) => write!(f, "NUL in {p}"),
            Found::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Found {}

impl ser::Error for Found {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        Found::Other(msg.to_string())
    }
}

/// A serializer that produces nothing and stops at the first string holding NUL.
struct Walker {
    path: Vec<String>,
}

impl Walker {
    fn text(&self, s: &str) -> Result<(), Found> {
        if s.contains('\0') {
            let mut path = String::new();
            for seg in &self.path {
                if !path.is_empty() && !seg.starts_with('[') {
                    path.push('.');
                }
                path.push_str(seg);
            }
            return Err(Found::Nul(if path.is_empty() { "body".to_owned() } else { path }));
        }
        Ok(())
    }

    fn nested<T: Serialize + ?Sized>(&mut self, key: String, value: &T) -> Result<(), Found> {
        self.path.push(key);
        let r = value.serialize(&mut *self);
        self.path.pop();
        r
    }
}

/// Map keys are strings too: a key is checked, then its value is walked under it.
struct MapWalk<'a> {
    walker: &'a mut Walker,
    key: String,
}

/// Collects a map key as text.
struct KeyText(String);

macro_rules! ignore {
    ($($f:ident($t:ty)),* $(,)?) => {
        $(fn $f(self, _: $t) -> Result<(), Found> { Ok(()) })*
    };
}

impl<'a> ser::Serializer for &'a mut Walker {
    type Ok = ();
    type Error = Found;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Seq<'a>;
    type SerializeMap = MapWalk<'a>;
    type SerializeStruct = &'a mut Walker;
    type SerializeStructVariant = &'a mut Walker;

    ignore!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_bytes(&[u8]),
    );

    fn serialize_char(self, c: char) -> Result<(), Found> {
        self.text(c.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, s: &str) -> Result<(), Found> {
        self.text(s)
    }

    fn serialize_none(self) -> Result<(), Found> {
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Found> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Found> {
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Found> {
        Ok(())
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Found> {
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<(), Found> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Found> {
        self.nested(variant.to_owned(), value)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Seq<'a>, Found> {
        Ok(Seq { walker: self, index: 0 })
    }

    fn serialize_tuple(self, _: usize) -> Result<Seq<'a>, Found> {
        Ok(Seq { walker: self, index: 0 })
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Seq<'a>, Found> {
        Ok(Seq { walker: self, index: 0 })
    }

    fn serialize_tuple_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Seq<'a>, Found> {
        Ok(Seq { walker: self, index: 0 })
    }

    fn serialize_map(self, _: Option<usize>) -> Result<MapWalk<'a>, Found> {
        Ok(MapWalk { walker: self, key: String::new() })
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<&'a mut Walker, Found> {
        Ok(self)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<&'a mut Walker, Found> {
        Ok(self)
    }
}

/// A sequence being walked, with the index of the next element.
struct Seq<'a> {
    walker: &'a mut Walker,
    index: usize,
}

impl Seq<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Found> {
        let key = format!("[{}]", self.index);
        self.index += 1;
        self.walker.nested(key, value)
    }
}

macro_rules! seq_impl {
    ($($tr:ident :: $f:ident),*) => {
        $(impl ser::$tr for Seq<'_> {
            type Ok = ();
            type Error = Found;
            fn $f<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Found> {
                self.element(value)
            }
            fn end(self) -> Result<(), Found> {
                Ok(())
            }
        })*
    };
}

seq_impl!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for MapWalk<'_> {
    type Ok = ();
    type Error = Found;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Found> {
        let mut text = KeyText(String::new());
        key.serialize(&mut text)?;
        self.walker.nested(format!("[{:?}]", text.0), &text.0)?;
        self.key = text.0;
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Found> {
        let key = std::mem::take(&mut self.key);
        self.walker.nested(key, value)
    }

    fn end(self) -> Result<(), Found> {
        Ok(())
    }
}

impl ser::SerializeStruct for &mut Walker {
    type Ok = ();
    type Error = Found;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Found> {
        self.nested(key.to_owned(), value)
    }

    fn end(self) -> Result<(), Found> {
        Ok(())
    }
}

impl ser::SerializeStructVariant for &mut Walker {
    type Ok = ();
    type Error = Found;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Found> {
        self.nested(key.to_owned(), value)
    }

    fn end(self) -> Result<(), Found> {
        Ok(())
    }
}

/// Map keys are strings or numbers; anything else contributes no text.
impl ser::Serializer for &mut KeyText {
    type Ok = ();
    type Error = Found;
    type SerializeSeq = ser::Impossible<(), Found>;
    type SerializeTuple = ser::Impossible<(), Found>;
    type SerializeTupleStruct = ser::Impossible<(), Found>;
    type SerializeTupleVariant = ser::Impossible<(), Found>;
    type SerializeMap = ser::Impossible<(), Found>;
    type SerializeStruct = ser::Impossible<(), Found>;
    type SerializeStructVariant = ser::Impossible<(), Found>;

    ignore!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_bytes(&[u8]),
    );

    fn serialize_char(self, c: char) -> Result<(), Found> {
        self.0.push(c);
        Ok(())
    }

    fn serialize_str(self, s: &str) -> Result<(), Found> {
        self.0.push_str(s);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), Found> {
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Found> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Found> {
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Found> {
        Ok(())
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<(), Found> {
        self.0.push_str(variant);
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<(), Found> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Found> {
        Ok(())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Found> {
        Err(Found::Other("map key".into()))
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Found> {
        Err(Found::Other("map key".into()))
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, Found> {
        Err(Found::Other("map key".into()))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Found> {
        Err(Found::Other("map key".into()))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Found> {
        Err(Found::Other("map key".into()))
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Found> {
        Err(Found::Other("map key".into()))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Found> {
        Err(Found::Other("map key".into()))
    }
}

#[cfg(test)]
mod tests {
    use switchboard_proto::v1 as pb;

    use super::*;

    #[test]
    fn a_nul_anywhere_is_refused_with_its_field() {
        let req = pb::SendMessageRequest {
            conversation_id: "1".into(),
            text: Some(pb::TextContent { text: "a\0b".into(), entities: vec![], ..Default::default() }),
            ..Default::default()
        };
        let e = check_strings(&req).unwrap_err();
        assert!(e.0.message.contains("field text.text:"), "{}", e.0.message);

        let mut meta = std::collections::BTreeMap::new();
        meta.insert("k\0".to_owned(), "v".to_owned());
        let req = pb::SendMessageRequest { metadata: meta, ..Default::default() };
        assert!(check_strings(&req).unwrap_err().0.message.contains("metadata"), "map keys are checked");

        let req = pb::GetMessagesRequest { conversation_id: "1".into(), message_ids: vec!["2".into(), "3\0".into()] };
        let e = check_strings(&req).unwrap_err();
        assert!(e.0.message.contains("field messageIds[1]:"), "{}", e.0.message);
    }

    #[test]
    fn clean_requests_pass() {
        let req = pb::SendMessageRequest {
            conversation_id: "1".into(),
            client_key: "k".into(),
            text: Some(pb::TextContent { text: "tab\tand newline\n".into(), entities: vec![], ..Default::default() }),
            ..Default::default()
        };
        check_strings(&req).unwrap();
    }
}

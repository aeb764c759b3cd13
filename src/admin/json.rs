//! A tiny ordered JSON value and the pretty layout ZooKeeper's Jackson output uses
//! (`"key" : value`, two-space object indent, arrays inline as `[ a, b ]`), so the
//! AdminServer answers look byte-for-byte like ZooKeeper's apart from values.

use super::java_double;

/// A JSON value with object keys kept in insertion order.
#[derive(Debug, Clone, PartialEq)]
pub enum J {
    Null,
    Bool(bool),
    Int(i64),
    /// Printed as Java prints a double (`0.0`, `2.6667`).
    Float(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    /// A string value.
    pub fn s(v: impl Into<String>) -> J {
        J::Str(v.into())
    }

    /// An integer value (saturating for u64 beyond i64).
    pub fn i(v: impl TryInto<i64>) -> J {
        J::Int(v.try_into().unwrap_or(i64::MAX))
    }

    /// Pretty-prints in Jackson's default layout.
    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        match self {
            J::Null => out.push_str("null"),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Int(n) => out.push_str(&n.to_string()),
            J::Float(f) => out.push_str(&java_double(*f)),
            J::Str(s) => out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())),
            J::Arr(items) if items.is_empty() => out.push_str("[ ]"),
            J::Arr(items) => {
                out.push_str("[ ");
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.write(out, depth);
                }
                out.push_str(" ]");
            }
            J::Obj(fields) if fields.is_empty() => out.push_str("{ }"),
            J::Obj(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    out.push_str(if i > 0 { ",\n" } else { "\n" });
                    out.push_str(&"  ".repeat(depth + 1));
                    out.push_str(&serde_json::to_string(k).unwrap_or_default());
                    out.push_str(" : ");
                    v.write(out, depth + 1);
                }
                out.push('\n');
                out.push_str(&"  ".repeat(depth));
                out.push('}');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::J;

    #[test]
    fn jackson_layout() {
        let v = J::Obj(vec![
            ("a".into(), J::Arr(vec![J::Int(1), J::Int(2)])),
            (
                "c".into(),
                J::Arr(vec![J::Obj(vec![("x".into(), J::Float(0.0))])]),
            ),
            ("e".into(), J::Arr(vec![])),
            ("o".into(), J::Obj(vec![])),
            ("n".into(), J::Null),
        ]);
        assert_eq!(
            v.pretty(),
            "{\n  \"a\" : [ 1, 2 ],\n  \"c\" : [ {\n    \"x\" : 0.0\n  } ],\n  \"e\" : [ ],\n  \"o\" : { },\n  \"n\" : null\n}"
        );
    }
}

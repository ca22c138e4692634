//! Which mind a call is for: the gRPC metadata header `pmm-mind`. Any
//! language's client, `grpcurl -H`, ghz `-m` and a proxy can set it, or
//! route on it, without parsing protobuf. A call without it is for the mind
//! named `default`.

/// The metadata header that names a call's mind.
pub const MIND_HEADER: &str = "pmm-mind";

/// The mind of a call without [`MIND_HEADER`].
pub const DEFAULT_MIND: &str = "default";

/// Longest mind name, in bytes.
pub const MAX_MIND_NAME: usize = 64;

/// Checks a mind name against the documented set: 1 to 64 characters of
/// `a-z`, `0-9`, `.`, `_` and `-`, starting with a letter or digit (safe as
/// a folder name and in a proxy's routing rules). The error says what is
/// wrong.
pub fn check_mind_name(name: &str) -> Result<(), String> {
    let Some(first) = name.bytes().next() else {
        return Err("is empty".into());
    };
    if name.len() > MAX_MIND_NAME {
        return Err(format!(
            "is {} bytes long, above the maximum of {MAX_MIND_NAME}",
            name.len()
        ));
    }
    if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
        return Err("must start with a-z or 0-9".into());
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')))
    {
        Some(c) => Err(format!(
            "has {c:?}; a name is a-z, 0-9, '.', '_' and '-' only"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_the_documented_set_pass_and_others_say_why() {
        for ok in [
            "default",
            "alice",
            "a",
            "0",
            "agent-7.prod_v2",
            &"x".repeat(64),
        ] {
            assert_eq!(check_mind_name(ok), Ok(()), "{ok}");
        }
        let refused = [
            ("", "is empty"),
            ("Alice", "must start with a-z or 0-9"),
            ("-alice", "must start with a-z or 0-9"),
            (".hidden", "must start with a-z or 0-9"),
            ("alice/bob", "has '/'"),
            ("al ice", "has ' '"),
            ("alicé", "has 'é'"),
        ];
        for (name, why) in refused {
            let err = check_mind_name(name).expect_err(name);
            assert!(err.starts_with(why), "{name:?}: {err}");
        }
        let long = "x".repeat(65);
        assert_eq!(
            check_mind_name(&long),
            Err("is 65 bytes long, above the maximum of 64".into())
        );
    }
}

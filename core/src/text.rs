//! Cutting text to a size in bytes, for the limits of the services we write to.

/// The longest start of `text` of at most `max` bytes that ends on a character boundary.
pub fn head_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::head_bytes;

    #[test]
    fn cuts_on_a_character_boundary() {
        assert_eq!(head_bytes("abc", 5), "abc");
        assert_eq!(head_bytes("abc", 2), "ab");
        // "€" is three bytes: a cut inside it keeps none of it.
        assert_eq!(head_bytes("a€b", 3), "a");
        assert_eq!(head_bytes("a€b", 4), "a€");
        assert_eq!(head_bytes("€", 0), "");
    }
}

//! DynamoDB's item size, by its documented rules ("Item sizes and formats" in the developer
//! guide), which is what read and write units and storage are billed on. moto's
//! `ReturnConsumedCapacity` answers a constant whatever the item's size, so the bench cannot
//! take the units from the emulator.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

/// Bytes of an item: every attribute's name plus its value.
pub fn item_bytes(item: &HashMap<String, AttributeValue>) -> usize {
    item.iter().map(|(name, value)| name.len() + value_bytes(value)).sum()
}

/// Bytes of one value. Lists and maps cost 3 bytes plus 1 per element; numbers about one byte per
/// two significant digits plus one.
pub fn value_bytes(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_bytes(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| number_bytes(n)).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(v) => 3 + v.iter().map(|e| 1 + value_bytes(e)).sum::<usize>(),
        AttributeValue::M(m) => 3 + m.iter().map(|(k, e)| 1 + k.len() + value_bytes(e)).sum::<usize>(),
        _ => 0,
    }
}

fn number_bytes(n: &str) -> usize {
    let digits: String = n.chars().take_while(|c| *c != 'e' && *c != 'E').filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len().max(1);
    (significant.div_ceil(2) + 1).min(21)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_by_the_documented_rules() {
        let item = HashMap::from([
            ("pk".to_owned(), AttributeValue::S("LOGS#a#b".into())),  // 2 + 8
            ("n".to_owned(), AttributeValue::N("1700000000".into())), // 1 + (2 digits → 1 + 1)
            ("ok".to_owned(), AttributeValue::Bool(true)),            // 2 + 1
            (
                "m".to_owned(), // 1 + 3 + (1 + 1 + 3) + (1 + 1 + 1)
                AttributeValue::M(HashMap::from([
                    ("k".to_owned(), AttributeValue::S("abc".into())),
                    ("z".to_owned(), AttributeValue::Null(true)),
                ])),
            ),
            ("l".to_owned(), AttributeValue::L(vec![AttributeValue::N("12345".into())])), // 1 + 3 + 1 + 4
        ]);
        assert_eq!(item_bytes(&item), 10 + 3 + 3 + 12 + 9);
    }
}

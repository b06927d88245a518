use super::*;

/// An item as `put` writes it, for inline data `json`.
fn item_with(json: &str) -> HashMap<String, AttributeValue> {
    let (name, value) = data_attribute(json);
    HashMap::from([
        ("eventId".to_owned(), AttributeValue::S("evt_1".into())),
        ("event".to_owned(), AttributeValue::S("finding.new".into())),
        ("timestamp".to_owned(), AttributeValue::S("2026-12-03T10:00:00Z".into())),
        (name.to_owned(), value),
        (TTL_ATTR.to_owned(), AttributeValue::N("1900000000".into())),
    ])
}

fn account() -> AccountId {
    AccountId::parse("acct_a").unwrap()
}

fn inline_text(event: &StoredEvent) -> &str {
    match &event.data {
        StoredData::Inline(data) => data.json(),
        StoredData::Stored(_) => panic!("expected inline data"),
    }
}

/// A finding with evidence, as a scanner writes one: ~6 KB of JSON.
fn finding_json() -> String {
    let evidence: Vec<String> = (0..40)
        .map(|i| format!("GET /api/v1/users/{i}?q=%27%20OR%201%3D1 HTTP/1.1 -> 200, {} rows leaked", 17 * i + 3))
        .collect();
    serde_json::json!({
        "id": "fnd_1", "severity": "critical", "title": "SQL injection in search",
        "description": "The q parameter is concatenated into a SQL query.", "evidence": evidence,
    })
    .to_string()
}

#[test]
fn a_finding_is_kept_deflated_and_reads_back_byte_for_byte() {
    let json = finding_json();
    let item = item_with(&json);
    let Some(AttributeValue::B(deflated)) = item.get(DATA_DEFLATED) else { panic!("not deflated: {item:?}") };
    assert!(!item.contains_key(DATA));
    assert!(deflated.as_ref().len() * 3 < json.len(), "{} of {} bytes", deflated.as_ref().len(), json.len());
    let event = decode(&account(), &item).unwrap();
    assert_eq!(inline_text(&event), json);
}

#[test]
fn data_that_does_not_shrink_stays_text() {
    let json = r#"{"scanId":"scn_1"}"#;
    let item = item_with(json);
    assert_eq!(item.get(DATA), Some(&AttributeValue::S(json.into())));
    assert!(!item.contains_key(DATA_DEFLATED));
    assert_eq!(inline_text(&decode(&account(), &item).unwrap()), json);
}

#[test]
fn items_written_before_deflation_still_read() {
    let json = finding_json();
    let mut item = item_with("{}");
    item.remove(DATA_DEFLATED);
    item.insert(DATA.into(), AttributeValue::S(json.clone()));
    assert_eq!(inline_text(&decode(&account(), &item).unwrap()), json);
}

#[test]
fn deflated_data_that_is_damaged_or_too_long_is_corrupt_not_a_panic() {
    let mut item = item_with(&finding_json());
    item.insert(DATA_DEFLATED.into(), AttributeValue::B(Blob::new(b"not deflate".to_vec())));
    assert!(matches!(decode(&account(), &item), Err(StoreError::Corrupt(_))));

    // More than inline data can be: a small item that would inflate far past the limit.
    let bomb = miniz_oxide::deflate::compress_to_vec(&vec![b' '; 2 * INLINE_DATA_LIMIT], DEFLATE_LEVEL);
    assert!(bomb.len() < 1024);
    item.insert(DATA_DEFLATED.into(), AttributeValue::B(Blob::new(bomb)));
    assert!(matches!(decode(&account(), &item), Err(StoreError::Corrupt(_))));
}

#[test]
fn data_of_exactly_the_inline_limit_reads_back() {
    let filler = "x".repeat(INLINE_DATA_LIMIT - r#"{"blob":""}"#.len());
    let json = serde_json::json!({ "blob": filler }).to_string();
    assert_eq!(json.len(), INLINE_DATA_LIMIT);
    let item = item_with(&json);
    assert!(item.contains_key(DATA_DEFLATED));
    assert_eq!(inline_text(&decode(&account(), &item).unwrap()), json);
}

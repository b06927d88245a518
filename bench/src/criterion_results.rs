//! Reads what `cargo bench -p apviso-service --bench delivery_cpu` left in
//! `$CARGO_TARGET_DIR/criterion`.

use std::{collections::BTreeMap, path::Path};

use serde::Serialize;
use serde_json::Value;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Estimate {
    pub mean_ns: f64,
    pub median_ns: f64,
    pub low_ns: f64,
    pub high_ns: f64,
}

/// `group/name` → estimate, for every benchmark found.
pub fn read(dir: &Path) -> BTreeMap<String, Estimate> {
    let mut found = BTreeMap::new();
    let Ok(groups) = std::fs::read_dir(dir) else { return found };
    for group in groups.flatten().filter(|g| g.path().is_dir()) {
        let Ok(benches) = std::fs::read_dir(group.path()) else { continue };
        for bench in benches.flatten() {
            let file = bench.path().join("new/estimates.json");
            let Ok(text) = std::fs::read_to_string(&file) else { continue };
            let Ok(json) = serde_json::from_str::<Value>(&text) else { continue };
            let get = |stat: &str, key: &str| -> f64 {
                let v = &json[stat];
                match key {
                    "point" => v["point_estimate"].as_f64(),
                    bound => v["confidence_interval"][bound].as_f64(),
                }
                .unwrap_or(f64::NAN)
            };
            let key = format!("{}/{}", group.file_name().to_string_lossy(), bench.file_name().to_string_lossy());
            found.insert(
                key,
                Estimate {
                    mean_ns: get("mean", "point"),
                    median_ns: get("median", "point"),
                    low_ns: get("mean", "lower_bound"),
                    high_ns: get("mean", "upper_bound"),
                },
            );
        }
    }
    found
}

//! Item 6 (sizes): each release binary, zipped as Lambda wants it (`bootstrap` at the root),
//! and the arm64 zips `infra/scripts/build-lambdas.sh` leaves in target/lambda-arm64 if any.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::SystemTime,
};

use serde::Serialize;

use crate::BoxError;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Artifact {
    pub binary: String,
    pub binary_bytes: u64,
    pub zip_bytes: Option<u64>,
    pub arm64_binary_bytes: Option<u64>,
    pub arm64_zip_bytes: Option<u64>,
    /// Age of the arm64 zip when it was read, in hours.
    pub arm64_zip_age_h: Option<f64>,
}

/// How zips were made: `zip` (the CLI, deflate level 6, like cargo-lambda) or Python's zipfile.
pub fn zipper() -> &'static str {
    let found = Command::new("zip").arg("-v").output().is_ok_and(|o| o.status.success());
    if found { "zip" } else { "python3 zipfile" }
}

fn zip_as_bootstrap(binary: &Path, dir: &Path, zipper: &str) -> Result<PathBuf, BoxError> {
    std::fs::create_dir_all(dir)?;
    let bootstrap = dir.join("bootstrap");
    std::fs::copy(binary, &bootstrap)?;
    let zip = dir.join("bootstrap.zip");
    let _ = std::fs::remove_file(&zip);
    let status = if zipper == "zip" {
        Command::new("zip").arg("-q").arg("-X").arg("-j").arg(&zip).arg(&bootstrap).status()?
    } else {
        Command::new("python3")
            .arg("-c")
            .arg("import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z: z.write(sys.argv[2], 'bootstrap')")
            .arg(&zip)
            .arg(&bootstrap)
            .status()?
    };
    if !status.success() {
        return Err(format!("zipping {} failed", binary.display()).into());
    }
    Ok(zip)
}

fn size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

pub fn measure(root: &Path, bin_dir: &Path, zip_dir: &Path, names: &[String]) -> Result<Vec<Artifact>, BoxError> {
    let zipper = zipper();
    let mut rows = Vec::new();
    for name in names {
        let binary = bin_dir.join(name);
        let binary_bytes = size(&binary).ok_or_else(|| format!("{} is missing", binary.display()))?;
        let zip = zip_as_bootstrap(&binary, &zip_dir.join(name), zipper)?;
        let arm_zip = root.join("target/lambda-arm64").join(name).join("bootstrap.zip");
        let age = std::fs::metadata(&arm_zip)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .map(|d| d.as_secs_f64() / 3600.0);
        rows.push(Artifact {
            binary: name.clone(),
            binary_bytes,
            zip_bytes: size(&zip),
            arm64_binary_bytes: size(&root.join("target/lambda-build/aarch64-unknown-linux-gnu/release").join(name)),
            arm64_zip_bytes: size(&arm_zip),
            arm64_zip_age_h: age,
        });
    }
    Ok(rows)
}

"""Writes the template `make sam-local` runs: template.yaml for x86_64 with prebuilt code.

Usage: python sam_local_template.py TEMPLATE LAMBDA_DIR OUTPUT

Runs with the SAM CLI's own Python (its yamlhelper reads CloudFormation's short tags). The
output differs from TEMPLATE in three things only, and the script checks that nothing else
changed:
- Globals.Function.Architectures is [x86_64]: arm64 images would need qemu here;
- every function's CodeUri is LAMBDA_DIR/<binary> (the folder holding `cargo lambda build`'s
  `bootstrap`), the binary being the function's Metadata.BuildProperties.Binary;
- Globals.Function.Environment declares AWS_ENDPOINT_URL and APVISO_S3_PATH_STYLE (empty).
  `sam local` passes a function only the variables its template declares
  (samcli/local/lambdafn/env_vars.py), so without the declaration `--env-vars` cannot point
  the SDK at the emulator, nor address its S3 by path.
"""

import copy
import os
import sys

from samcli.yamlhelper import yaml_dump, yaml_parse

LOCAL_ONLY_VARIABLES = {"AWS_ENDPOINT_URL": "", "APVISO_S3_PATH_STYLE": ""}


def functions(template):
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def localize(template, lambda_dir):
    local = copy.deepcopy(template)
    globals_fn = local["Globals"]["Function"]
    globals_fn["Architectures"] = ["x86_64"]
    globals_fn["Environment"]["Variables"].update(LOCAL_ONLY_VARIABLES)
    for name, resource in functions(local).items():
        binary = resource["Metadata"]["BuildProperties"]["Binary"]
        code = os.path.join(lambda_dir, binary)
        if not os.path.isfile(os.path.join(code, "bootstrap")):
            sys.exit(f"{name}: no {code}/bootstrap (build the x86_64 bootstraps first)")
        resource["Properties"]["CodeUri"] = code
    return local


def without_local_changes(template):
    """The template with the three local changes taken out again, to compare with the original."""
    plain = copy.deepcopy(template)
    globals_fn = plain["Globals"]["Function"]
    globals_fn.pop("Architectures", None)
    for name in LOCAL_ONLY_VARIABLES:
        globals_fn["Environment"]["Variables"].pop(name, None)
    for resource in functions(plain).values():
        resource["Properties"].pop("CodeUri", None)
    return plain


def main():
    source, lambda_dir, output = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    with open(source, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    local = localize(template, lambda_dir)
    if without_local_changes(local) != without_local_changes(template):
        sys.exit("the local template differs from the original in more than its three local changes")
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "w", encoding="utf-8") as f:
        f.write(f"# Generated from {source} by infra/scripts/sam_local_template.py; do not edit.\n")
        f.write(yaml_dump(local))


if __name__ == "__main__":
    main()

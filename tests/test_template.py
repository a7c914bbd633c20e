"""template.yaml: cfn-lint clean, and what the SAM transform makes of it; the Lambda build target.

The SAM transform runs offline with aws-sam-translator. Its managed policy loader (which asks
IAM for policy ARNs) is a stub, and its region comes from a dummy environment.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode.cfn_yaml import loads as load_cfn_yaml
from moto_server import AWS_VARS_TO_CLEAR, aws_test_env
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from samtranslator.translator.transform import transform

from skill.alexa.persistence import _import_official_dynamodb_adapter
from skill.datafiles import cache_path
from skill.local.envelopes import DEFAULT_SKILL_ID

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
REQUIREMENTS = ROOT / "requirements-lambda.txt"
SKILL_ID = "amzn1.ask.skill.12345678-90ab-cdef-1234-567890abcdef"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
BASIC_EXECUTION_ROLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


class StubManagedPolicyLoader:
    """Stands in for samtranslator's loader, which lists IAM's managed policies over the API."""

    def load(self) -> dict[str, str]:
        return {"AWSLambdaBasicExecutionRole": BASIC_EXECUTION_ROLE}


def plain(node: Any) -> Any:
    """cfn-lint's decoded nodes as plain dicts, lists and strings."""
    return json.loads(json.dumps(node))


@pytest.fixture(scope="module")
def sam_template() -> dict[str, Any]:
    return plain(load_cfn_yaml(TEMPLATE.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def cfn(sam_template: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The CloudFormation template that the SAM transform produces."""
    template = json.loads(json.dumps(sam_template))
    # `sam build` / `sam package` replace the local CodeUri with the uploaded artefact.
    template["Resources"]["YogaFunction"]["Properties"]["CodeUri"] = "s3://artefacts/yoga.zip"
    with pytest.MonkeyPatch.context() as mp:
        for name in AWS_VARS_TO_CLEAR:
            mp.delenv(name, raising=False)
        for name, value in aws_test_env(tmp_path_factory.mktemp("aws")).items():
            mp.setenv(name, value)
        return transform(template, {"SkillId": SKILL_ID}, StubManagedPolicyLoader())


def resources_of(cfn: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in cfn["Resources"].items() if r["Type"] == type_}


def the_one(cfn: dict[str, Any], type_: str) -> tuple[str, dict[str, Any]]:
    found = resources_of(cfn, type_)
    assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
    return next(iter(found.items()))


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------- cfn-lint


def run_cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from cfnlint.runner import main; main()",
            "--format",
            "parseable",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_cfn_lint_reports_nothing() -> None:
    # Exit code 0 means no errors (2), warnings (4) or informational findings (8).
    result = run_cfn_lint(TEMPLATE)
    assert (result.returncode, result.stdout.strip()) == (0, ""), result.stdout + result.stderr


def test_cfn_lint_does_flag_a_broken_template(tmp_path: Path) -> None:
    """Guard against a linter that silently checks nothing."""
    broken = tmp_path / "template.yaml"
    text = TEMPLATE.read_text(encoding="utf-8")
    broken.write_text(text.replace("PAY_PER_REQUEST", "PAY_AS_YOU_GO"), encoding="utf-8")
    result = run_cfn_lint(broken)
    assert result.returncode & 2, result.stdout + result.stderr
    assert "PAY_AS_YOU_GO" in result.stdout


# --------------------------------------------------------------------------- parameters


def test_skill_id_parameter_is_required_and_checked(sam_template: dict[str, Any]) -> None:
    parameter = sam_template["Parameters"]["SkillId"]
    assert "Default" not in parameter
    pattern = parameter["AllowedPattern"]
    assert re.fullmatch(pattern, SKILL_ID)
    assert re.fullmatch(pattern, DEFAULT_SKILL_ID)
    for bad in ("", "amzn1.ask.skill.", "amzn1.ask.skill.XYZ", "amzn1.echo-sdk-ams.app.123"):
        assert not re.fullmatch(pattern, bad), bad


# --------------------------------------------------------------------------- the function


def test_function_runtime_and_handler(cfn: dict[str, Any]) -> None:
    name, function = the_one(cfn, "AWS::Lambda::Function")
    props = function["Properties"]
    assert name == "YogaFunction"
    assert props["Runtime"] == "python3.12"
    assert props["Architectures"] == ["arm64"]
    assert props["MemorySize"] == 256
    assert props["Timeout"] <= 8  # Alexa gives up after 8 seconds
    module, attr = props["Handler"].rsplit(".", 1)
    assert module == "skill.alexa.lambda_function"
    assert importlib.util.find_spec(module) is not None
    assert callable(getattr(importlib.import_module(module), attr))
    assert props["Code"] == {"S3Bucket": "artefacts", "S3Key": "yoga.zip"}


def test_function_environment(cfn: dict[str, Any]) -> None:
    env = cfn["Resources"]["YogaFunction"]["Properties"]["Environment"]["Variables"]
    assert env["YOGA_PERSISTENCE"] == "dynamodb"
    assert env["YOGA_DYNAMODB_TABLE"] == {"Ref": "ProgressTable"}
    assert env["YOGA_SKILL_ID"] == {"Ref": "SkillId"}
    assert env["YOGA_AUDIO_BASE_URL"] == {
        "Fn::Sub": "https://${AudioDistribution.DomainName}/audio"
    }


def test_only_the_skill_may_invoke_the_function(cfn: dict[str, Any]) -> None:
    permissions = resources_of(cfn, "AWS::Lambda::Permission")
    assert len(permissions) == 1, sorted(permissions)
    props = next(iter(permissions.values()))["Properties"]
    assert props == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Ref": "YogaFunction"},
        "Principal": "alexa-appkit.amazon.com",
        "EventSourceToken": {"Ref": "SkillId"},
    }
    assert not resources_of(cfn, "AWS::Lambda::Url")


def adapter_dynamodb_actions() -> set[str]:
    """The DynamoDB calls ask_sdk_dynamodb's adapter makes on a table, as IAM action names.

    Read from the adapter's source (importing it needs a region); ``create_table`` is left out
    because the skill never asks the adapter to create its table.
    """
    spec = importlib.util.find_spec("ask_sdk_dynamodb.adapter")
    assert spec is not None and spec.origin is not None
    source = Path(spec.origin).read_text(encoding="utf-8")
    calls = set(re.findall(r"\btable\.([a-z_]+)\(", source))
    assert calls, "found no table calls in the adapter's source"
    return {"dynamodb:" + "".join(part.title() for part in call.split("_")) for call in calls}


def test_role_allows_only_the_adapters_item_calls_on_the_table(cfn: dict[str, Any]) -> None:
    function = cfn["Resources"]["YogaFunction"]["Properties"]
    assert function["Role"] == {"Fn::GetAtt": ["YogaFunctionRole", "Arn"]}
    role = cfn["Resources"]["YogaFunctionRole"]["Properties"]
    assert role["ManagedPolicyArns"] == [BASIC_EXECUTION_ROLE]  # logs only
    statements = [
        statement
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    assert statements
    actions: set[str] = set()
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        assert as_list(statement["Resource"]) == [{"Fn::GetAtt": ["ProgressTable", "Arn"]}]
        actions.update(as_list(statement["Action"]))
    assert actions == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"}
    assert actions == adapter_dynamodb_actions()
    assert "*" not in json.dumps(role["Policies"])


# --------------------------------------------------------------------------- the table


def test_table_matches_the_official_adapter(cfn: dict[str, Any]) -> None:
    name, table = the_one(cfn, "AWS::DynamoDB::Table")
    assert name == "ProgressTable"
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in props
    adapter = _import_official_dynamodb_adapter()
    key = inspect.signature(adapter.__init__).parameters["partition_key_name"].default
    assert key == "id"
    assert props["KeySchema"] == [{"AttributeName": key, "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": key, "AttributeType": "S"}]
    assert "TimeToLiveSpecification" not in props  # the adapter writes no expiry attribute
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert table["DeletionPolicy"] == "Retain"


def test_log_group_has_a_retention(cfn: dict[str, Any]) -> None:
    name, group = the_one(cfn, "AWS::Logs::LogGroup")
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    config = cfn["Resources"]["YogaFunction"]["Properties"]["LoggingConfig"]
    assert config == {"LogGroup": {"Ref": name}}


# --------------------------------------------------------------------------- audio hosting


def test_bucket_is_private_and_encrypted(cfn: dict[str, Any]) -> None:
    _, bucket = the_one(cfn, "AWS::S3::Bucket")
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert "WebsiteConfiguration" not in props
    assert "AccessControl" not in props


def test_bucket_policy_lets_only_the_distribution_read(cfn: dict[str, Any]) -> None:
    _, policy = the_one(cfn, "AWS::S3::BucketPolicy")
    assert policy["Properties"]["Bucket"] == {"Ref": "AudioBucket"}
    allows = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    assert len(allows) == 1
    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert as_list(allow["Action"]) == ["s3:GetObject"]
    assert allow["Condition"] == {
        "StringEquals": {
            "AWS:SourceArn": {
                "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}"
                ":distribution/${AudioDistribution}"
            }
        }
    }


def test_distribution_is_https_only_through_origin_access_control(cfn: dict[str, Any]) -> None:
    name, distribution = the_one(cfn, "AWS::CloudFront::Distribution")
    config = distribution["Properties"]["DistributionConfig"]
    assert config["Enabled"] is True
    behaviors = [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]
    for behavior in behaviors:
        assert behavior["ViewerProtocolPolicy"] in {"https-only", "redirect-to-https"}
        assert behavior["CachePolicyId"] == CACHING_OPTIMIZED
        assert set(behavior["AllowedMethods"]) == {"GET", "HEAD"}
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["AudioBucket", "RegionalDomainName"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    oac_name, oac = the_one(cfn, "AWS::CloudFront::OriginAccessControl")
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_name, "Id"]}
    oac_config = oac["Properties"]["OriginAccessControlConfig"]
    assert oac_config["OriginAccessControlOriginType"] == "s3"
    assert oac_config["SigningProtocol"] == "sigv4"
    assert oac_config["SigningBehavior"] == "always"
    assert name == "AudioDistribution"


def test_outputs(cfn: dict[str, Any]) -> None:
    outputs = cfn["Outputs"]
    assert outputs["YogaFunctionArn"]["Value"] == {"Fn::GetAtt": ["YogaFunction", "Arn"]}
    assert outputs["ProgressTableName"]["Value"] == {"Ref": "ProgressTable"}
    assert outputs["AudioBucketName"]["Value"] == {"Ref": "AudioBucket"}
    assert "aws s3 sync audio/ s3://<bucket>/audio/" in outputs["AudioBucketName"]["Description"]
    env = cfn["Resources"]["YogaFunction"]["Properties"]["Environment"]["Variables"]
    assert outputs["AudioBaseUrl"]["Value"] == env["YOGA_AUDIO_BASE_URL"]


def test_privacy_and_terms_pages_are_hosted_beside_the_clips(cfn: dict[str, Any]) -> None:
    """`yoga-skill package` writes build/site/privacy and /terms; the distribution serves them
    at the paths the webhook uses, and SiteUrl is the origin publish.yaml's site takes."""
    from skill.publish.deployment import Deployment

    _, policy = the_one(cfn, "AWS::S3::BucketPolicy")
    (allow,) = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    readable = [resource["Fn::Sub"] for resource in as_list(allow["Resource"])]
    assert readable[:3] == [  # then the phone player's files (tests/test_player_site.py)
        "${AudioBucket.Arn}/audio/*",
        "${AudioBucket.Arn}/privacy",
        "${AudioBucket.Arn}/terms",
    ]
    site = cfn["Outputs"]["SiteUrl"]
    assert site["Value"] == {"Fn::Sub": "https://${AudioDistribution.DomainName}"}
    assert "aws s3 sync build/site/ s3://<bucket>/" in site["Description"]
    deployment = Deployment(site="https://d111111abcdef8.cloudfront.net")
    assert deployment.privacy_url == "https://d111111abcdef8.cloudfront.net/privacy"
    assert deployment.terms_url == "https://d111111abcdef8.cloudfront.net/terms"


# --------------------------------------------------------------------------- the build


def test_lambda_requirements_are_declared_in_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared: dict[str, str] = {}
    for line in [
        *project["dependencies"],
        *(dep for group in project["optional-dependencies"].values() for dep in group),
    ]:
        requirement = Requirement(line)
        declared.setdefault(canonicalize_name(requirement.name), str(requirement.specifier))
    lines = REQUIREMENTS.read_text(encoding="utf-8").splitlines()
    wanted = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    names = {canonicalize_name(r.name) for r in wanted}
    assert names == {"ask-sdk-core", "ask-sdk-dynamodb-persistence-adapter", "pyyaml", "tzdata"}
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in declared, f"{name} is not a dependency in pyproject.toml"
        assert str(requirement.specifier) == declared[name], name


@pytest.fixture(scope="module")
def lambda_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`make build-YogaFunction` as `sam build` runs it: pip fetches arm64 / Python 3.12 wheels."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    artifacts = tmp_path_factory.mktemp("artifacts")
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "build-YogaFunction",
            f"ARTIFACTS_DIR={artifacts}",
            f"PYTHON={sys.executable}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    yield artifacts


def _apl(path: Path) -> bool:
    """The screens' APL documents (skill/screens/apl/*.json)."""
    return path.suffix == ".json" and path.parent == ROOT / "skill" / "screens" / "apl"


def test_build_copies_only_the_skill_package(lambda_build: Path) -> None:
    expected = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "skill").rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and (path.suffix in {".py", ".yaml"} or path.name == "py.typed" or _apl(path))
    }
    built = {
        path.relative_to(lambda_build).as_posix()
        for path in (lambda_build / "skill").rglob("*")
        if path.is_file()
    }
    copies = {name for name in built if "/__pycache__/" in name}
    assert built - copies == expected
    # Beside each YAML data file, the JSON copy of what it parses to (skill/datafiles.py): the
    # function reads those, and never imports PyYAML to answer.
    yaml_files = sorted(name for name in expected if name.endswith(".yaml"))
    assert copies == {
        cache_path(lambda_build / name, (lambda_build / name).read_bytes())
        .relative_to(lambda_build)
        .as_posix()
        for name in yaml_files
    }
    for needed in (
        "skill/alexa/lambda_function.py",
        "skill/routine/routines/post_run.yaml",
        "skill/speech/prompts/en.yaml",
    ):
        assert needed in built
    for stray in ("tests", "bench", "interaction_models", "template.yaml", "Makefile"):
        assert not (lambda_build / stray).exists(), stray
    # The clips are served from S3; the function needs only the manifest to name them.
    assert sorted(p.name for p in (lambda_build / "audio").iterdir()) == ["manifest.json"]


def test_build_installs_runtime_dependencies_for_arm64_python312(lambda_build: Path) -> None:
    for package in ("ask_sdk_core", "ask_sdk_model", "ask_sdk_dynamodb", "yaml"):
        assert (lambda_build / package / "__init__.py").is_file(), package
    extensions = [path.name for path in (lambda_build / "yaml").glob("_yaml*.so")]
    assert extensions and all("cpython-312-aarch64-linux-gnu" in name for name in extensions)
    for unwanted in (
        *("flask", "gunicorn", "cryptography", "ask_sdk_webservice_support"),  # the webhook's
        *("gtts", "mutagen", "lameenc", "miniaudio", "numpy"),  # the audio extra's
    ):
        assert not (lambda_build / unwanted).exists(), unwanted
    assert not list(lambda_build.rglob("*.pyc"))


def test_built_function_answers_without_the_virtualenv(lambda_build: Path) -> None:
    """The artefact alone (no site-packages) runs the handler; the C extensions are for arm64
    but every dependency used here has a pure-Python fallback, so this host can run it."""
    script = textwrap.dedent(
        """
        import json, sys
        from skill.local.envelopes import Session
        from skill.alexa.lambda_function import handler
        import skill
        assert skill.__file__.startswith(sys.argv[1]), skill.__file__
        answer = handler(Session().launch(), None)
        assert "yaml" not in sys.modules, "the data files' JSON copies were not built"
        print(json.dumps(answer))
        """
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "YOGA_", "AWS_"))
    }
    env["YOGA_PERSISTENCE"] = "none"
    env["YOGA_AUDIO_BASE_URL"] = "https://d111111abcdef8.cloudfront.net/audio"
    result = subprocess.run(
        [sys.executable, "-S", "-c", script, str(lambda_build)],
        cwd=lambda_build,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    ssml = response["response"]["outputSpeech"]["ssml"]
    assert ssml.startswith('<speak><audio src="https://d111111abcdef8.cloudfront.net/audio/clips/')

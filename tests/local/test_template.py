"""Intrinsic functions, dependency order, names and assembly reading: no moto needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.assembly import AssemblyError, CloudAssembly
from local.template import TemplateResolver, Unresolvable, physical_name
from local.template_order import dependency_order, references

TEMPLATE = {
    "Parameters": {
        "Env": {"Type": "String", "Default": "dev"},
        "Flag": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/flags/x"},
    },
    "Mappings": {"Sizes": {"dev": {"Memory": 256}}},
    "Conditions": {
        "IsDev": {"Fn::Equals": [{"Ref": "Env"}, "dev"]},
        "IsProd": {"Fn::Not": [{"Condition": "IsDev"}]},
    },
    "Resources": {},
}


def resolver(**kwargs: object) -> TemplateResolver:
    result = TemplateResolver(
        TEMPLATE,
        stack_name="Shop",
        region="eu-west-1",
        account_id="123456789012",
        **kwargs,  # type: ignore[arg-type]
    )
    result.register("Table", "shop-orders", {"Arn": "arn:aws:dynamodb:eu-west-1:123456789012:table/shop-orders"})
    result.register("Fn", "shop-fn", {"Arn": "arn:aws:lambda:eu-west-1:123456789012:function:shop-fn"})
    return result


def test_pseudo_parameters_and_refs() -> None:
    r = resolver()
    assert r.resolve({"Ref": "AWS::Region"}) == "eu-west-1"
    assert r.resolve({"Ref": "AWS::AccountId"}) == "123456789012"
    assert r.resolve({"Ref": "AWS::Partition"}) == "aws"
    assert r.resolve({"Ref": "AWS::URLSuffix"}) == "amazonaws.com"
    assert r.resolve({"Ref": "AWS::StackName"}) == "Shop"
    assert r.resolve({"Ref": "AWS::StackId"}).startswith("arn:aws:cloudformation:eu-west-1:123456789012:stack/Shop/")
    assert r.resolve({"Ref": "Table"}) == "shop-orders"
    assert r.resolve({"Ref": "Env"}) == "dev"


def test_get_att_join_and_the_state_machine_shape() -> None:
    definition = {
        "Fn::Join": [
            "",
            [
                '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"',
                {"Fn::GetAtt": ["Fn", "Arn"]},
                '","End":true}}}',
            ],
        ]
    }
    parsed = json.loads(resolver().resolve(definition))
    assert parsed["States"]["A"]["Resource"] == "arn:aws:lambda:eu-west-1:123456789012:function:shop-fn"
    assert resolver().resolve({"Fn::GetAtt": "Table.Arn"}).endswith(":table/shop-orders")


def test_sub_with_variables_attributes_and_escapes() -> None:
    r = resolver()
    assert r.resolve({"Fn::Sub": "${AWS::Region}/${Table}/${Fn.Arn}/${!Literal}"}) == (
        "eu-west-1/shop-orders/arn:aws:lambda:eu-west-1:123456789012:function:shop-fn/${Literal}"
    )
    assert r.resolve({"Fn::Sub": ["x-${Name}-${AWS::AccountId}", {"Name": {"Ref": "Table"}}]}) == (
        "x-shop-orders-123456789012"
    )


def test_select_split_if_conditions_find_in_map_and_no_value() -> None:
    r = resolver()
    assert r.resolve({"Fn::Select": [1, {"Fn::Split": [":", "a:b:c"]}]}) == "b"
    assert r.resolve({"Fn::If": ["IsProd", "big", "small"]}) == "small"
    assert r.resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Memory"]}) == 256
    resolved = r.resolve(
        {"Keep": 1, "Drop": {"Fn::If": ["IsDev", {"Ref": "AWS::NoValue"}, 2]}, "List": [1, {"Ref": "AWS::NoValue"}]}
    )
    assert resolved == {"Keep": 1, "List": [1]}
    assert r.condition("IsDev") is True


def test_unresolvable_references_say_what_is_missing() -> None:
    r = resolver()
    with pytest.raises(Unresolvable, match="Nope"):
        r.resolve({"Ref": "Nope"})
    with pytest.raises(Unresolvable, match="ImportValue"):
        r.resolve({"Fn::ImportValue": "OtherStack:Export"})
    with pytest.raises(Unresolvable, match="StreamArn"):
        r.resolve({"Fn::GetAtt": ["Table", "StreamArn"]})


def test_ssm_typed_parameters_resolve_through_the_lookup() -> None:
    r = resolver(ssm_lookup=lambda name: "from-ssm" if name == "/flags/x" else None)
    assert r.resolve({"Ref": "Flag"}) == "from-ssm"
    assert resolver().resolve({"Ref": "Flag"}) == "/flags/x"  # without a lookup: the default stands


def test_dynamic_references_are_left_alone() -> None:
    layer = "{{resolve:ssm:/aws/service/powertools/python/x86_64/python3.13/latest}}"
    assert resolver().resolve({"Layers": [layer]}) == {"Layers": [layer]}


def test_dependency_order_follows_refs_getatts_subs_and_depends_on() -> None:
    resources = {
        "Machine": {"Properties": {"Definition": {"Fn::Sub": "${Fn.Arn}"}}},
        "Fn": {"Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}}, "DependsOn": "Policy"},
        "Policy": {"Properties": {"Roles": [{"Ref": "Role"}]}},
        "Role": {"Properties": {}},
        "Alone": {"Properties": {"Region": {"Ref": "AWS::Region"}}},
    }
    order = dependency_order(resources)
    assert order.index("Role") < order.index("Policy") < order.index("Fn") < order.index("Machine")
    assert references(resources["Machine"]) == {"Fn"}


def test_physical_names_are_deterministic_and_fit_the_service_limit() -> None:
    assert physical_name("Shop", "OrdersTable1234", 255) == "Shop-OrdersTable1234"
    long_id = "A" * 100
    name = physical_name("Shop", long_id, 80, ".fifo")
    assert len(name) == 80 and name.endswith(".fifo")
    assert name == physical_name("Shop", long_id, 80, ".fifo")
    assert name != physical_name("Shop", long_id + "B", 80, ".fifo")


def test_assembly_finds_stack_paths_and_assets_without_asset_metadata(assembly_dir: Path) -> None:
    assembly = CloudAssembly.load(assembly_dir)
    stack = assembly.stack()
    assert stack.stack_name == "LocalRunnerTest"
    assert assembly.stack("LocalRunnerTest") is stack
    with pytest.raises(AssemblyError, match="no stack"):
        assembly.stack("Missing")
    logical_id = next(k for k, v in stack.construct_paths.items() if v == "LocalRunnerTest/EchoA/Resource")
    code = stack.resources[logical_id]["Properties"]["Code"]
    del stack.resources[logical_id]["Metadata"]["aws:asset:path"]  # as a bare App().synth() writes it
    asset = stack.asset_for(logical_id, code)
    assert asset is not None and (asset.path / "handlers.py").is_file()


def test_a_directory_without_a_manifest_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(AssemblyError, match="cdk synth"):
        CloudAssembly.load(tmp_path)

"""A PowerShell module (PSScriptAnalyzer-like): `build.ps1` switches, Pester tests under `Tests/`, a OneBranch
release pipeline that signs and pushes to the PowerShell Gallery through a remote governed template."""

from __future__ import annotations

from pathlib import Path

from helpers import scan_dict, verdicts, write

from devops_audit.classify import default_classifier
from devops_audit.collectors.files import sort_files
from devops_audit.fileindex import FileIndex

CI_TEST = """\
name: CI Tests
on:
  push:
    branches: [ main ]
  pull_request:
    branches: [ main ]
jobs:
  ci:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Build
        run: ./build.ps1 -Configuration Release -All -Verbose
        shell: pwsh
      - name: Test
        run: ./build.ps1 -Test -Verbose
        shell: pwsh
"""

OFFICIAL = """\
trigger:
- main
schedules:
- cron: '20 16 * * 4'
  branches:
    include: [main]
resources:
  repositories:
    - repository: templates
      type: git
      name: OneBranch.Pipelines/GovernedTemplates
      ref: refs/heads/main
extends:
  # https://aka.ms/obpipelines/templates
  template: v2/OneBranch.Official.CrossPlat.yml@templates
  parameters:
    stages:
    - stage: build
      jobs:
      - job: main
        pool:
          type: windows
        steps:
          - pwsh: ./build.ps1 -Configuration Release -All
          - task: onebranch.pipeline.signing@1
            inputs:
              command: sign
              files_to_sign: '**/*.psd1'
          - pwsh: ./build.ps1 -BuildNupkg
    - stage: release
      dependsOn: build
      jobs:
      - job: publish
        pool:
          type: release
        steps:
        - task: NuGetCommand@2
          inputs:
            command: push
            nuGetFeedType: external
"""


def test_build_script_switches_and_powershell_publishing_are_recognised():
    classify = default_classifier().classify
    assert classify(run="./build.ps1 -Configuration Release -All") == (["build"], ["build-ps1"])
    assert classify(run="./build.ps1 -Test -Verbose") == (["test"], ["pester"])
    assert classify(run="Invoke-Pester -Path ./Tests -CI") == (["test"], ["pester"])
    assert classify(run="Publish-Module -Path ./out/MyModule -NuGetApiKey $env:KEY")[0] == ["publish"]
    assert classify(run="Publish-PSResource -Path ./out -Repository PSGallery")[0] == ["publish"]
    assert classify(run="nuget push out/*.nupkg -Source PSGallery")[0] == ["publish"]
    assert classify(uses="onebranch.pipeline.signing@1") == (["signing"], ["microsoft-signing"])
    assert classify(run="./tools/installPSResources.ps1 -PSRepository CFS") == ([], [])


def test_pester_files_under_a_capitalised_tests_folder_are_tests():
    listing = sort_files(FileIndex(sorted(["Tests/Rules/AvoidAlias.tests.ps1", "Module/Public/Get-Thing.Tests.ps1",
                                           "PSCompatibilityCollector/Tests/Cmdlet.ps1", "Engine/Helper.cs"])))
    assert listing.tests == ["Module/Public/Get-Thing.Tests.ps1", "PSCompatibilityCollector/Tests/Cmdlet.ps1",
                             "Tests/Rules/AvoidAlias.tests.ps1"]


def test_powershell_module_with_a_onebranch_release_pipeline(tmp_path: Path):
    write(tmp_path, {".github/workflows/ci-test.yml": CI_TEST, ".pipelines/Module-Official.yml": OFFICIAL,
                     "build.ps1": "param([switch]$Test)\n", "Tests/Engine/Settings.tests.ps1": "Describe 'x' {}\n"})
    found = verdicts(scan_dict(tmp_path, offline=True))
    assert {i: found[i]["status"] for i in ("CD.BP.01", "CD.BP.02", "CD.BP.03", "CD.TM.01", "CD.DR.01",
                                             "SR.BD.05")} == {
        "CD.BP.01": "pass", "CD.BP.02": "pass", "CD.BP.03": "pass", "CD.TM.01": "pass", "CD.DR.01": "pass",
        "SR.BD.05": "pass"}
    assert found["CD.DR.02"]["status"] == "fail"  # the release stage needs only the build stage: no tests
    assert found["SR.TC.01"]["status"] == "unknown"  # the governed template's SDL stages are not visible
    assert "v2/OneBranch.Official.CrossPlat.yml@templates" in found["SR.TC.01"]["message"]

"""--engine ray on a simulated cluster of three nodes (``ray.cluster_utils.Cluster``, one CPU each):
the local engine's report and cleaned outputs byte for byte, reached from this process and from
the command line through ``--ray-address``."""

from __future__ import annotations

import pytest
from conftest import read_bytes_decompressed, run_cli, snapshot
from test_ray import write_shards

import dedup

ray = pytest.importorskip("ray")
cluster_utils = pytest.importorskip("ray.cluster_utils")


@pytest.fixture(scope="module")
def cluster():
    nodes = cluster_utils.Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    for _ in range(2):
        nodes.add_node(num_cpus=1)
    nodes.wait_for_nodes()
    ray.init(address=nodes.address, logging_level="ERROR")
    yield nodes
    ray.shutdown()
    nodes.shutdown()


def _outputs(folder):
    return {name: read_bytes_decompressed(folder / name) for name in snapshot(folder)}


def test_three_nodes_give_the_local_report_and_outputs(cluster, tmp_path):
    shards = write_shards(tmp_path / "shards")
    assert len([node for node in ray.nodes() if node["Alive"]]) == 3
    local = dedup.clean(shards, tmp_path / "local-out", report=tmp_path / "local.csv", site_field="url")
    on_ray = dedup.clean(shards, tmp_path / "ray-out", report=tmp_path / "ray.csv", site_field="url", engine="ray")
    assert on_ray.stats.workers == 3
    assert (tmp_path / "ray.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert _outputs(tmp_path / "ray-out") == _outputs(tmp_path / "local-out")
    assert len(local.findings) > 50

    # A second driver, the command, joins the same cluster by its address.
    done = run_cli(["scan", *map(str, shards), "--site-field", "url", "--engine", "ray", "--ray-address",
                    cluster.address, "--report", str(tmp_path / "cli.csv"), "--quiet"], cwd=tmp_path, timeout=300)
    assert done.code == 0, done.stderr
    dedup.scan(shards, report=tmp_path / "local-scan.csv", site_field="url")
    assert (tmp_path / "cli.csv").read_bytes() == (tmp_path / "local-scan.csv").read_bytes()

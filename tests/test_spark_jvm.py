"""The local JVM's options (pipeline/spark/jvm.py): what they are, and that a JVM started from Python runs
with them."""
from __future__ import annotations

from pipeline.spark.jvm import LOCAL_OPTIONS, local_java_options


def test_the_class_archive_is_named_only_once_built(tmp_path):
    archive = tmp_path / "spark-cds.jsa"
    assert local_java_options(archive).split() == [
        "-XX:+UseSerialGC", "-XX:Tier4InvocationThreshold=50000", "-XX:Tier4MinInvocationThreshold=6000",
        "-XX:Tier4CompileThreshold=150000", "-XX:Tier4BackEdgeThreshold=400000"]
    archive.write_bytes(b"an archive")
    assert local_java_options(archive).split() == [*LOCAL_OPTIONS, f"-XX:SharedArchiveFile={archive}"]


def test_the_local_jvm_runs_with_them(spark):
    # the session's JVM was started by this Python process with spark.driver.extraJavaOptions, the way
    # pipeline.spark.job.spark_session starts a local one: the options must be among the JVM's arguments
    jvm = spark.sparkContext._jvm
    arguments = list(jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
    assert set(local_java_options().split()) <= set(arguments)
    # and the JVM took them: HotSpot reports the compile threshold it runs with
    diagnostic = jvm.java.lang.management.ManagementFactory.getPlatformMXBean(
        jvm.java.lang.Class.forName("com.sun.management.HotSpotDiagnosticMXBean"))
    assert diagnostic.getVMOption("Tier4InvocationThreshold").getValue() == "50000"

#!/usr/bin/env bash
# Runs cpu-vmx-core's KVM tests (KvmGuestTest, KvmEventFdTest by default) on a real hardware-style KVM on a machine
# that has no /dev/kvm: QEMU TCG emulates AMD SVM (-cpu max), a Debian kernel from /boot boots a busybox initramfs
# that loads kvm_amd, mounts the host's root read-only over 9p, chroots into it and runs the tests with the host's
# JDK 25 and this worktree's compiled classes. The opt-in test cli NestedKvmGuestTest (VIOPLANE_NESTED_KVM=1) does
# the same for `vioplane run` on every guest program. About 2 minutes under TCG.
#
# usage: scripts/nested-kvm-check.sh [TEST_CLASS[#method] ...]     (build first: mvn -pl cpu-vmx-core -am test-compile)
#        scripts/nested-kvm-check.sh --exit-loop [REPS ROUNDS WRITES]
#            runs perf's ExitLoopComparison instead (the exit_loop guest on vioplane's Machine and on the C minivmm,
#            side by side; build first: mvn -pl perf -am install -DskipTests); defaults 5 reps, 6 rounds, 2000 writes;
#            $EXIT_LOOP_JAVA_OPTS adds JVM flags (e.g. -XX:UseAVX=0)
# needs: qemu-system-x86_64, busybox (busybox-static), linux-image-amd64, kmod, cpio, maven (for the class path)
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
. "$ROOT/scripts/jdk.sh"
MODE=tests
if [ "${1:-}" = "--exit-loop" ]; then
  MODE=exit-loop
  EXIT_LOOP_ARGS=("${2:-5}" "${3:-6}" "${4:-2000}")
  set --
fi
TESTS=("$@")
[ ${#TESTS[@]} -gt 0 ] || TESTS=(io.vioplane.vmx.KvmGuestTest io.vioplane.vmx.KvmEventFdTest)
KVER=$(ls /boot/vmlinuz-* | sed 's|/boot/vmlinuz-||' | sort -V | while read -r v; do
  [ -f "/lib/modules/$v/modules.dep" ] && echo "$v"; done | tail -1)
[ -n "$KVER" ] || { echo "no /boot/vmlinuz-VERSION with /lib/modules/VERSION: apt-get install linux-image-amd64" >&2; exit 1; }
WORK="$ROOT/cpu-vmx-core/target/nested-kvm"
[ "$MODE" = exit-loop ] || [ -d "$ROOT/cpu-vmx-core/target/test-classes" ] \
  || { echo "build first: mvn -pl cpu-vmx-core -am test-compile" >&2; exit 1; }
rm -rf "$WORK" && mkdir -p "$WORK/initramfs"/{bin,dev,proc,sys,tmp,host,lib/modules} "$WORK/runner"

if [ "$MODE" = exit-loop ]; then
  [ -x "$ROOT/perf/target/native/minivmm" ] && [ -f "$ROOT/cpu-vmx-core/target/guests/exit_loop.elf" ] \
    || { echo "build first: mvn -pl perf -am install -DskipTests" >&2; exit 1; }
  MVN_REPO=()
  [ -n "${MAVEN_REPO_LOCAL:-}" ] && MVN_REPO=("-Dmaven.repo.local=$MAVEN_REPO_LOCAL")
  (cd "$ROOT" && mvn -B -ntp -o -q -pl perf dependency:build-classpath -Dmdep.includeScope=runtime \
    -Dmdep.outputFile="$WORK/deps.txt" "${MVN_REPO[@]}")
  CP="$ROOT/perf/target/classes:$ROOT/cpu-vmx-core/target/classes:$ROOT/platform/target/classes:$(cat "$WORK/deps.txt")"
  cat > "$WORK/run.sh" <<EOF
#!/bin/sh
cd "$ROOT"
"$JAVA_HOME/bin/java" @"$ROOT/jvm.options" -XX:+UseSerialGC -XX:-UsePerfData ${EXIT_LOOP_JAVA_OPTS:-} -cp "$CP" \\
  io.vioplane.perf.vmx.ExitLoopComparison \\
  "$ROOT/cpu-vmx-core/target/guests/exit_loop.elf" "$ROOT/perf/target/native/minivmm" ${EXIT_LOOP_ARGS[*]}
EOF
  chmod +x "$WORK/run.sh"
else
# Test class path: this worktree's classes first, then the module's test dependencies and the JUnit launcher.
MVN_REPO=()
[ -n "${MAVEN_REPO_LOCAL:-}" ] && MVN_REPO=("-Dmaven.repo.local=$MAVEN_REPO_LOCAL")
(cd "$ROOT" && mvn -B -ntp -o -q -pl cpu-vmx-core dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile="$WORK/deps.txt" "${MVN_REPO[@]}")
REPO=$(sed -n 's|^\(.*\)/org/junit/platform/junit-platform-engine/.*|\1|p' <(tr ':' '\n' < "$WORK/deps.txt") | head -1)
ENGINE_VERSION=$(tr ':' '\n' < "$WORK/deps.txt" | sed -n 's|.*/junit-platform-engine/\([^/]*\)/.*|\1|p' | head -1)
LAUNCHER="$REPO/org/junit/platform/junit-platform-launcher/$ENGINE_VERSION/junit-platform-launcher-$ENGINE_VERSION.jar"
[ -f "$LAUNCHER" ] || (cd "$ROOT" && mvn -B -ntp -q dependency:get "${MVN_REPO[@]}" \
  -Dartifact="org.junit.platform:junit-platform-launcher:$ENGINE_VERSION")
CP="$ROOT/cpu-vmx-core/target/classes:$ROOT/cpu-vmx-core/target/test-classes:$ROOT/platform/target/classes"
CP="$CP:$ROOT/platform/target/test-classes:$(cat "$WORK/deps.txt"):$LAUNCHER"
cat > "$WORK/runner/RunTests.java" <<'EOF'
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

public class RunTests {
    public static void main(String[] args) {
        List<DiscoverySelector> selectors = new ArrayList<>();
        for (String a : args) {
            selectors.add(a.contains("#") ? DiscoverySelectors.selectMethod(a) : DiscoverySelectors.selectClass(a));
        }
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        TestExecutionListener printer = new TestExecutionListener() {
            public void executionSkipped(TestIdentifier id, String reason) {
                System.out.println("SKIPPED " + id.getLegacyReportingName() + ": " + reason);
            }
            public void executionFinished(TestIdentifier id, TestExecutionResult r) {
                if (id.isTest()) {
                    System.out.println(r.getStatus() + " " + id.getUniqueIdObject().getSegments().get(1).getValue()
                            .replaceAll(".*\\.", "") + " " + id.getLegacyReportingName()
                            + r.getThrowable().map(t -> "\n  " + t).orElse(""));
                }
            }
        };
        LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request().selectors(selectors).build(),
                summary, printer);
        summary.getSummary().printTo(new PrintWriter(System.out));
        summary.getSummary().printFailuresTo(new PrintWriter(System.out), 20);
        System.exit(summary.getSummary().getTotalFailureCount() == 0
                && summary.getSummary().getTestsAbortedCount() == 0 ? 0 : 1);
    }
}
EOF
javac -cp "$CP" -d "$WORK/runner" "$WORK/runner/RunTests.java"

cat > "$WORK/run.sh" <<EOF
#!/bin/sh
cd "$ROOT/cpu-vmx-core"
"$JAVA_HOME/bin/java" @"$ROOT/jvm.options" -XX:TieredStopAtLevel=1 -Dvioplane.root="$ROOT" \\
  -cp "$CP:$WORK/runner" RunTests ${TESTS[*]}
EOF
chmod +x "$WORK/run.sh"
fi

# initramfs: busybox, the 9p and virtio modules, kvm_amd and its dependencies (insmod in modprobe's order)
cp "$(command -v busybox)" "$WORK/initramfs/bin/busybox"
i=0
for f in $(for m in virtio_pci 9pnet_virtio 9p kvm_amd; do modprobe -S "$KVER" --show-depends "$m"; done \
           | awk '$1 == "insmod" && !seen[$2]++ {print $2}'); do
  case "$f" in
    *.xz) xz -dc "$f" > "$WORK/initramfs/lib/modules/$(printf %02d $i)-$(basename "${f%.xz}")" ;;
    *.zst) zstd -qdc "$f" > "$WORK/initramfs/lib/modules/$(printf %02d $i)-$(basename "${f%.zst}")" ;;
    *) cp "$f" "$WORK/initramfs/lib/modules/$(printf %02d $i)-$(basename "$f")" ;;
  esac
  i=$((i + 1))
done
cat > "$WORK/initramfs/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in /lib/modules/*.ko; do insmod \$m || echo "nested-kvm: insmod \$m failed"; done
[ -c /dev/kvm ] || { echo "nested-kvm: no /dev/kvm"; dmesg | grep -i -E 'kvm|svm'; poweroff -f; }
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose hostroot /host
mount -t proc proc /host/proc; mount -t sysfs sys /host/sys; mount -t devtmpfs dev /host/dev
mount -t tmpfs tmp /host/tmp
chroot /host /bin/sh "$WORK/run.sh"; echo "nested-kvm: status \$?"
poweroff -f
EOF
chmod +x "$WORK/initramfs/init"
(cd "$WORK/initramfs" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "$WORK/initramfs.gz")

# One vCPU: with two, nested SVM under TCG hung in KVM_RUN once.
timeout 1800 qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m 3G -nographic -no-reboot -nodefaults -serial stdio \
  -kernel "/boot/vmlinuz-$KVER" -initrd "$WORK/initramfs.gz" \
  -append "console=ttyS0 quiet panic=-1 nowatchdog rcu_cpu_stall_suppress=1" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap \
  | tee "$WORK/console.log" | sed -n '/nested-kvm\|SUCCESSFUL\|FAILED\|ABORTED\|SKIPPED\|tests \|=>\|^  \|rep \|warm-up\|exit-loop\|mmio minus\|best round\|ns\/write\|exits\/write\|Exception\|minivmm/p'
grep -q "nested-kvm: status 0" "$WORK/console.log"

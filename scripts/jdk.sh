# Sourced by ./vioplane and ./test: sets JAVA_HOME to a JDK 25 or newer, or explains what to install.
# Order: $JAVA_HOME if it is 25+, else /usr/lib/jvm/temurin-25*, else any /usr/lib/jvm/*-25* JDK.

vioplane_jdk_major() {
  local home="$1" version
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 1
  if [ -f "$home/release" ]; then
    version=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
  fi
  if [ -z "${version:-}" ]; then
    version=$("$home/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/.*java.specification.version = \([0-9]*\).*/\1/p')
  fi
  [ -n "$version" ] && echo "$version"
}

vioplane_find_jdk() {
  local candidate major
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25* /usr/lib/jvm/*-25* /usr/lib/jvm/*; do
    [ -n "$candidate" ] && [ -d "$candidate" ] || continue
    major=$(vioplane_jdk_major "$candidate") || continue
    if [ "$major" -ge 25 ] 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "vioplane needs JDK 25 or newer: install Temurin 25 (https://adoptium.net, or apt-get install temurin-25-jdk) or point JAVA_HOME at one." >&2
  return 1
}

JAVA_HOME="$(vioplane_find_jdk)" || exit 1
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"

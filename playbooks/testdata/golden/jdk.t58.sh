# managed by clusterctl — changes will be overwritten
#
# The seed's jdk.sh, less JRE_HOME and CLASSPATH (JDK 9+ has no jre/
# directory, and a global CLASSPATH leaks into every java program), and with
# this JDK first in PATH so it wins over any distribution java.
export JAVA_HOME=/usr/local/jdk
export PATH=$JAVA_HOME/bin:$PATH

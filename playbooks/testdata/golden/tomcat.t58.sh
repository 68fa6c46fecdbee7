# managed by clusterctl — changes will be overwritten
#
# Tomcat's scripts (catalina.sh, version.sh, ...) in PATH. The seed's
# install script expanded $PATH when it wrote this file, freezing root's PATH
# of that moment into every login; here $PATH is expanded at login.
export PATH=/usr/local/tomcat/bin:$PATH

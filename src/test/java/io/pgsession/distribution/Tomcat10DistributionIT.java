package io.pgsession.distribution;

/** {@link TomcatDistribution} with Tomcat 10.1. */
class Tomcat10DistributionIT extends TomcatDistribution {
  @Override
  protected String version() {
    return System.getProperty("tomcat10.distribution.version", "10.1.59");
  }
}

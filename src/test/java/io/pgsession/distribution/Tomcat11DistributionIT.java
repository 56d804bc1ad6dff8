package io.pgsession.distribution;

/** {@link TomcatDistribution} with Tomcat 11. */
class Tomcat11DistributionIT extends TomcatDistribution {
  @Override
  protected String version() {
    return System.getProperty("tomcat11.distribution.version", "11.0.24");
  }
}

package de.javakaffee.web.msm;

/**
 * clusterctl MSM test double -- NOT memcached-session-manager.
 *
 * Exists so the default transcoderFactoryClass name of real MSM resolves.
 * The stand-in always uses Java serialization (see TranscoderService).
 */
public class JavaSerializationTranscoderFactory {
}

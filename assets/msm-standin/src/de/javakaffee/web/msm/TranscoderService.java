package de.javakaffee.web.msm;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.NotSerializableException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.apache.catalina.util.CustomObjectInputStream;

/**
 * clusterctl MSM test double -- NOT memcached-session-manager.
 *
 * The memcached value, byte for byte the layout of MSM 2.3.x
 * TranscoderService.serializeSessionFields (VERSION_2) followed by the
 * attributes as JavaSerializationTranscoder writes them:
 *
 * <pre>
 *  0  short  version (2)
 *  2  short  length of this header
 *  4  long   creationTime
 * 12  long   lastAccessedTime
 * 20  int    maxInactiveInterval
 * 24  byte   isNew  ('1'/'0')
 * 25  byte   isValid ('1'/'0')
 * 26  long   thisAccessedTime
 * 34  long   lastBackupTime
 * 42  short  id length
 * 44  bytes  session id (UTF-8)
 *  .  short  authType id (0 = none), short principal length (0),
 *     short savedRequest length (0), short savedPrincipal length (0)
 *  .  Java serialization: Integer count, then name/value pairs
 * </pre>
 *
 * The stand-in never stores a principal or a saved FORM request (lengths 0).
 */
final class TranscoderService {

    static final short VERSION_2 = 2;
    static final String NOT_SERIALIZED = "___NOT_SERIALIZABLE_EXCEPTION___";

    private TranscoderService() {
    }

    static byte[] serialize(final MemcachedBackupSession s, final byte[] attributesData, final long lastBackupTime) {
        final byte[] id = s.getIdInternal().getBytes(StandardCharsets.UTF_8);
        final int headerLength = 2 + 2 + 8 + 8 + 4 + 1 + 1 + 8 + 8 + 2 + id.length + 2 + 2 + 2 + 2;
        final byte[] out = new byte[headerLength + attributesData.length];
        int i = 0;
        i = put(out, i, VERSION_2, 2);
        i = put(out, i, headerLength, 2);
        i = put(out, i, s.getCreationTimeInternal(), 8);
        i = put(out, i, s.getLastAccessedTimeInternal(), 8);
        i = put(out, i, s.getMaxInactiveInterval(), 4);
        out[i++] = (byte) (s.isNewInternal() ? '1' : '0');
        out[i++] = (byte) (s.isValidInternal() ? '1' : '0');
        i = put(out, i, s.getThisAccessedTimeInternal(), 8);
        i = put(out, i, lastBackupTime, 8);
        i = put(out, i, id.length, 2);
        System.arraycopy(id, 0, out, i, id.length);
        i += id.length;
        i = put(out, i, 0, 2); // authType NONE
        i = put(out, i, 0, 2); // principal
        i = put(out, i, 0, 2); // saved request
        i = put(out, i, 0, 2); // saved principal
        System.arraycopy(attributesData, 0, out, i, attributesData.length);
        return out;
    }

    /** Fills session from data; returns the attribute bytes' hash (change detection). */
    static int deserializeInto(final byte[] data, final MemcachedBackupSession s, final ClassLoader loader)
            throws IOException {
        final long version = get(data, 0, 2);
        if (version != 1 && version != VERSION_2) {
            throw new IOException("unsupported session data version " + version);
        }
        final int headerLength = (int) get(data, 2, 2);
        final int idLength = (int) get(data, 42, 2);
        s.restoreFields(get(data, 4, 8), get(data, 12, 8), (int) get(data, 20, 4), data[24] == '1', data[25] == '1',
            get(data, 26, 8));
        s.setLastBackupTime(get(data, 34, 8));
        s.setIdInternal(new String(data, 44, idLength, StandardCharsets.UTF_8));
        final byte[] attrs = new byte[data.length - headerLength];
        System.arraycopy(data, headerLength, attrs, 0, attrs.length);
        for (final Map.Entry<String, Object> e : deserializeAttributes(attrs, loader).entrySet()) {
            s.getAttributesInternal().put(e.getKey(), e.getValue());
        }
        return java.util.Arrays.hashCode(attrs);
    }

    static byte[] serializeAttributes(final MemcachedBackupSession s, final Pattern filter) throws IOException {
        final List<String> names = new ArrayList<>();
        final List<Object> values = new ArrayList<>();
        for (final Map.Entry<String, Object> e : new LinkedHashMap<>(s.getAttributesInternal()).entrySet()) {
            if (e.getValue() instanceof Serializable && (filter == null || filter.matcher(e.getKey()).matches())) {
                names.add(e.getKey());
                values.add(e.getValue());
            }
        }
        final ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (ObjectOutputStream oos = new ObjectOutputStream(bos)) {
            oos.writeObject(Integer.valueOf(names.size()));
            for (int i = 0; i < names.size(); i++) {
                oos.writeObject(names.get(i));
                try {
                    oos.writeObject(values.get(i));
                } catch (final NotSerializableException e) {
                    oos.writeObject(NOT_SERIALIZED);
                }
            }
        }
        return bos.toByteArray();
    }

    private static Map<String, Object> deserializeAttributes(final byte[] in, final ClassLoader loader)
            throws IOException {
        final Map<String, Object> result = new LinkedHashMap<>();
        try (ObjectInputStream ois = loader != null
                ? new CustomObjectInputStream(new ByteArrayInputStream(in), loader)
                : new ObjectInputStream(new ByteArrayInputStream(in))) {
            final int n = ((Integer) ois.readObject()).intValue();
            for (int i = 0; i < n; i++) {
                final String name = (String) ois.readObject();
                final Object value = ois.readObject();
                if (!NOT_SERIALIZED.equals(value)) {
                    result.put(name, value);
                }
            }
        } catch (final ClassNotFoundException e) {
            throw new IOException("session attribute class not found", e);
        }
        return result;
    }

    private static int put(final byte[] data, final int at, final long num, final int len) {
        for (int i = 0; i < len; i++) {
            data[at + len - i - 1] = (byte) ((num >> (8 * i)) & 0xff);
        }
        return at + len;
    }

    private static long get(final byte[] data, final int at, final int len) {
        long r = 0;
        for (int i = 0; i < len; i++) {
            r = (r << 8) | (data[at + i] & 0xff);
        }
        return r;
    }
}

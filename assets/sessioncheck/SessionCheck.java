import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.ObjectOutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * clusterctl's offline session-compatibility check (docs/apps.md). It reads
 * sampled MSM session blobs (lines "key base64" on stdin, taken from
 * memcached with a read-only get) and decodes each with MSM's own
 * JavaSerializationTranscoder in a class loader made of Tomcat's lib, the
 * MSM jars there and the NEW war's WEB-INF/classes and WEB-INF/lib, as a
 * Tomcat running the new version would. Each session it can read is then
 * written again by the new classes, in MSM's attribute format, and decoded
 * with the OLD war's classes: a rollback must read what the new version
 * writes. It writes nothing but its answer and a temporary directory it
 * removes.
 *
 * Usage: java -cp DIR SessionCheck NEW.war OLD.war CATALINA_HOME
 * Output, one line per session: "OK key", "SKIP key reason" (a session of
 * another app: a class neither war has), "NEW key cause" (the new version
 * cannot read it), "BACK key cause" (the old version cannot read what the
 * new one writes). Exit 0 when it ran (whatever it found), 2 on bad usage
 * or setup.
 */
public final class SessionCheck {
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: SessionCheck NEW.war OLD.war CATALINA_HOME");
            System.exit(2);
        }
        Path tmp = Files.createTempDirectory("clusterctl-sessioncheck");
        try {
            File home = new File(args[2]);
            List<URL> tomcat = jars(new File(home, "lib"));
            tomcat.addAll(jars(new File(home, "bin")));
            War newWar = new War(new File(args[0]), tmp.resolve("new"));
            War oldWar = new War(new File(args[1]), tmp.resolve("old"));
            Decoder next = new Decoder(newWar.loader(tomcat));
            Decoder prev = new Decoder(oldWar.loader(tomcat));
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
            for (String line; (line = in.readLine()) != null; ) {
                String[] f = line.trim().split(" ", 2);
                if (f.length != 2) {
                    continue;
                }
                System.out.println(check(f[0], Base64.getDecoder().decode(f[1]), next, prev, newWar, oldWar));
            }
        } finally {
            delete(tmp.toFile());
        }
    }

    static String check(String key, byte[] blob, Decoder next, Decoder prev, War newWar, War oldWar) {
        Map<String, Object> attrs;
        try {
            attrs = next.decode(next.attributes(blob));
        } catch (Throwable e) {
            String missing = missingClass(e);
            if (missing != null && !newWar.has(missing) && !oldWar.has(missing)) {
                return "SKIP " + key + " " + missing + " is in neither version (another app's session)";
            }
            return "NEW " + key + " " + cause(e);
        }
        try {
            prev.decode(write(attrs));
        } catch (Throwable e) {
            return "BACK " + key + " " + cause(e);
        }
        return "OK " + key;
    }

    /** MSM's attribute format: the count, then name and value of each. */
    static byte[] write(Map<String, Object> attrs) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        ObjectOutputStream oos = new ObjectOutputStream(bos);
        oos.writeObject(Integer.valueOf(attrs.size()));
        for (Map.Entry<String, Object> e : attrs.entrySet()) {
            oos.writeObject(e.getKey());
            oos.writeObject(e.getValue());
        }
        oos.close();
        return bos.toByteArray();
    }

    /** The deepest cause, as "class: message". */
    static String cause(Throwable e) {
        while (e.getCause() != null && e.getCause() != e) {
            e = e.getCause();
        }
        return (e.getClass().getName() + ": " + e.getMessage()).replace('\n', ' ');
    }

    static String missingClass(Throwable e) {
        for (; e != null; e = e.getCause()) {
            if (e instanceof ClassNotFoundException) {
                return e.getMessage();
            }
            if (e.getCause() == e) {
                break;
            }
        }
        return null;
    }

    static List<URL> jars(File dir) throws IOException {
        List<URL> out = new ArrayList<>();
        File[] fs = dir.listFiles((d, n) -> n.endsWith(".jar"));
        if (fs != null) {
            Arrays.sort(fs);
            for (File f : fs) {
                out.add(f.toURI().toURL());
            }
        }
        return out;
    }

    static void delete(File f) {
        File[] kids = f.listFiles();
        if (kids != null) {
            for (File k : kids) {
                delete(k);
            }
        }
        f.delete();
    }

    /** One war, unpacked as far as a class loader needs it. */
    static final class War {
        final Path dir;
        final Set<String> classes = new HashSet<>();

        War(File war, Path dir) throws IOException {
            this.dir = dir;
            Files.createDirectories(dir.resolve("WEB-INF/classes"));
            Files.createDirectories(dir.resolve("WEB-INF/lib"));
            try (ZipFile z = new ZipFile(war)) {
                for (Enumeration<? extends ZipEntry> es = z.entries(); es.hasMoreElements(); ) {
                    ZipEntry e = es.nextElement();
                    String n = e.getName();
                    boolean cls = n.startsWith("WEB-INF/classes/") && n.endsWith(".class");
                    boolean lib = n.startsWith("WEB-INF/lib/") && n.endsWith(".jar") && n.indexOf('/', 12) < 0;
                    if (e.isDirectory() || !(cls || lib) || n.contains("..")) {
                        continue;
                    }
                    if (cls) {
                        classes.add(n.substring(16, n.length() - 6).replace('/', '.'));
                    }
                    Path to = dir.resolve(n);
                    Files.createDirectories(to.getParent());
                    try (InputStream in = z.getInputStream(e)) {
                        Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        }

        boolean has(String className) {
            return classes.contains(className);
        }

        ClassLoader loader(List<URL> tomcat) throws IOException {
            List<URL> urls = new ArrayList<>(tomcat);
            urls.add(dir.resolve("WEB-INF/classes").toUri().toURL());
            urls.addAll(jars(dir.resolve("WEB-INF/lib").toFile()));
            // The parent is the JDK's own loader only: nothing of this
            // program's class path leaks into the war's view.
            return new URLClassLoader(urls.toArray(new URL[0]), ClassLoader.getSystemClassLoader().getParent());
        }
    }

    /** MSM's JavaSerializationTranscoder, loaded in one war's loader. */
    static final class Decoder {
        final Object transcoder;
        final Method deserialize;
        final Method decodeNum;

        Decoder(ClassLoader cl) throws ReflectiveOperationException {
            Class<?> t = Class.forName("de.javakaffee.web.msm.JavaSerializationTranscoder", true, cl);
            transcoder = t.getConstructor().newInstance();
            deserialize = t.getMethod("deserializeAttributes", byte[].class);
            decodeNum = Class.forName("de.javakaffee.web.msm.TranscoderService", true, cl)
                    .getMethod("decodeNum", byte[].class, int.class, int.class);
        }

        /** The attributes part of a session blob (docs/msm.md: the header says where it starts). */
        byte[] attributes(byte[] blob) throws ReflectiveOperationException {
            int start = (int) (long) (Long) decodeNum.invoke(null, blob, 2, 2);
            return Arrays.copyOfRange(blob, start, blob.length);
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> decode(byte[] attrs) throws Throwable {
            Thread th = Thread.currentThread();
            ClassLoader before = th.getContextClassLoader();
            th.setContextClassLoader(transcoder.getClass().getClassLoader());
            try {
                return (Map<String, Object>) deserialize.invoke(transcoder, (Object) attrs);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            } finally {
                th.setContextClassLoader(before);
            }
        }
    }
}

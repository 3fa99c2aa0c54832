package dev.ferry.coordinator.service;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on loopback in front of a real server that stalls its first {@code stalled}
 * connections: it accepts them and never answers (what a TLS handshake that takes too long looks
 * like to the client), and forwards every later connection byte for byte. One thread per
 * direction per connection; everything closes with the proxy.
 */
final class StallingProxy implements AutoCloseable {
  private final ServerSocket listener;
  private final int targetPort;
  private final int stalled;
  private final AtomicInteger accepted = new AtomicInteger();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final Thread acceptor;

  StallingProxy(int targetPort, int stalled) throws IOException {
    this.listener = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
    this.targetPort = targetPort;
    this.stalled = stalled;
    this.acceptor = new Thread(this::acceptLoop, "stalling-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return listener.getLocalPort();
  }

  /** Connections accepted so far (stalled ones included). */
  int accepted() {
    return accepted.get();
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        sockets.add(client);
        if (accepted.incrementAndGet() <= stalled) {
          continue; // held open, never read: the client's handshake waits until it gives up
        }
        Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        sockets.add(server);
        pump(client, server);
        pump(server, client);
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private static void pump(Socket from, Socket to) throws IOException {
    InputStream in = from.getInputStream();
    OutputStream out = to.getOutputStream();
    Thread t = new Thread(() -> {
      try (from; to) {
        in.transferTo(out);
      } catch (IOException e) {
        // one side closed: close both (try-with-resources)
      }
    }, "stalling-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  @Override
  public void close() throws IOException {
    listener.close();
    for (Socket s : sockets) {
      s.close();
    }
  }
}

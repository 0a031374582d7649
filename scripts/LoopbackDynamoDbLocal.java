// Starts Amazon's DynamoDB Local bound to 127.0.0.1 only. DynamoDB Local has no option for the
// address and listens on every interface; its Jetty connector is not started yet when
// createServerFromCommandLineArgs returns, so its host can still be set. Compiled and run by
// scripts/dynamodb-local.ts; takes DynamoDB Local's own command-line options.
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class LoopbackDynamoDbLocal {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    for (Connector connector : ((Server) field.get(proxy)).getConnectors()) {
      ((ServerConnector) connector).setHost("127.0.0.1");
    }
    try {
      proxy.start();
    } catch (Exception e) {
      System.err.println("DynamoDB Local could not start: " + e);
      System.exit(1);
    }
    // The parent waits for this exact line: it comes from this process, never from another
    // DynamoDB Local that happens to answer on the port.
    System.out.println("LISTENING 127.0.0.1");
    proxy.join();
  }
}

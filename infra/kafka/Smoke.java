// Smoke test for the local broker, run by `infra smoke` with Java's single-file
// source launcher against the cached jars (kafka-clients is among them):
//   java -cp "infra/.cache/kafka-<version>/libs/*" infra/kafka/Smoke.java 127.0.0.1:9092 [client.properties]
// The optional properties file is added to every client (the SASL_SSL listener's
// security.protocol, SCRAM login and PEM truststore; `infra smoke` writes one).
// Creates a 3-partition topic, produces one record per partition (idempotent,
// acks=all), reads them back through a consumer group (so the group coordinator
// and __consumer_offsets work), commits, then deletes the group and the topic.
import java.io.FileReader;
import java.io.IOException;
import java.io.Reader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class Smoke {
  static Properties base(String bootstrap, String clientFile) throws IOException {
    Properties props = new Properties();
    if (clientFile != null) {
      try (Reader reader = new FileReader(clientFile)) {
        props.load(reader);
      }
    }
    props.put("bootstrap.servers", bootstrap);
    return props;
  }

  public static void main(String[] args) throws Exception {
    String bootstrap = args.length > 0 ? args[0] : "127.0.0.1:9092";
    String clientFile = args.length > 1 ? args[1] : null;
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String topic = "infra-smoke-" + suffix;
    String group = "infra-smoke-" + suffix;
    int partitions = 3;

    Properties adminProps = base(bootstrap, clientFile);
    try (Admin admin = Admin.create(adminProps)) {
      String clusterId = admin.describeCluster().clusterId().get();
      int nodes = admin.describeCluster().nodes().get().size();
      System.out.printf("cluster %s, %d node(s)%n", clusterId, nodes);

      admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
      System.out.printf("created topic %s (%d partitions)%n", topic, partitions);

      Properties pp = base(bootstrap, clientFile);
      pp.put("acks", "all");
      pp.put("enable.idempotence", "true");
      pp.put("key.serializer", StringSerializer.class.getName());
      pp.put("value.serializer", StringSerializer.class.getName());
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
        for (int p = 0; p < partitions; p++) {
          RecordMetadata md = producer.send(new ProducerRecord<>(topic, p, "k" + p, "hello " + p)).get();
          System.out.printf("produced to %s-%d @ offset %d%n", md.topic(), md.partition(), md.offset());
        }
      }

      Properties cp = base(bootstrap, clientFile);
      cp.put("group.id", group);
      cp.put("auto.offset.reset", "earliest");
      cp.put("enable.auto.commit", "false");
      cp.put("key.deserializer", StringDeserializer.class.getName());
      cp.put("value.deserializer", StringDeserializer.class.getName());
      List<String> got = new ArrayList<>();
      try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp)) {
        consumer.subscribe(List.of(topic));
        long deadline = System.currentTimeMillis() + 30_000;
        while (got.size() < partitions && System.currentTimeMillis() < deadline) {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
            got.add(r.value());
          }
        }
        consumer.commitSync();
      }
      System.out.printf("consumed %d record(s) via group %s: %s%n", got.size(), group, got);

      admin.deleteConsumerGroups(List.of(group)).all().get();
      admin.deleteTopics(List.of(topic)).all().get();
      System.out.printf("deleted group and topic %s%n", topic);

      if (got.size() != partitions) {
        System.err.println("SMOKE FAILED: expected " + partitions + " records");
        System.exit(1);
      }
      System.out.println("SMOKE OK");
    }
  }
}

package dev.ferry.coordinator.service;

import dev.ferry.coordinator.zk.RecordCodec;
import dev.ferry.proto.MigrationEvent;
import dev.ferry.proto.MigrationInfo;
import dev.ferry.proto.MigrationPlanRecord;
import dev.ferry.proto.MigrationStateRecord;
import dev.ferry.proto.Phase;
import dev.ferry.proto.PhaseEvent;
import dev.ferry.proto.RoundEvent;
import dev.ferry.proto.RoundFigures;

/** Builds the journal's events and the MigrationInfo view of a plan and state record. */
final class Journal {
  private Journal() {}

  static MigrationInfo info(MigrationPlanRecord plan, MigrationStateRecord state) {
    MigrationInfo.Builder b = MigrationInfo.newBuilder()
        .setId(plan.getId())
        .setPid(plan.getPid())
        .setSourceHost(plan.getSourceHost())
        .setDestinationHost(plan.getDestinationHost())
        .setPhase(state.getPhase())
        .setRound(state.getRound())
        .setLimits(plan.getLimits())
        .setDryRun(plan.getDryRun())
        .setOwnerHost(state.getOwnerHost().isEmpty() ? plan.getSourceHost() : state.getOwnerHost())
        .setReason(state.getReason().isEmpty() && state.hasLastDecision() ? state.getLastDecision().getReason()
            : state.getReason())
        .setCreatedUnixMillis(plan.getCreatedUnixMillis())
        .setUpdatedUnixMillis(state.getUpdatedUnixMillis())
        .setTracker(state.getTracker());
    if (state.hasSummary()) {
      b.setSummary(state.getSummary());
    }
    return b.build();
  }

  static MigrationEvent started(MigrationInfo info, long at) {
    return MigrationEvent.newBuilder().setMigrationId(info.getId()).setSequence(0).setAtUnixMillis(at)
        .setStarted(info).build();
  }

  static MigrationEvent round(String id, long seq, long at, RoundFigures figures, dev.ferry.proto.Decision d) {
    return MigrationEvent.newBuilder().setMigrationId(id).setSequence(seq).setAtUnixMillis(at)
        .setRound(RoundEvent.newBuilder().setFigures(figures).setDecision(d)).build();
  }

  static MigrationEvent phase(String id, long seq, long at, Phase phase, String detail, long phaseMillis,
      dev.ferry.proto.TrackerKind tracker) {
    return MigrationEvent.newBuilder().setMigrationId(id).setSequence(seq).setAtUnixMillis(at)
        .setPhase(PhaseEvent.newBuilder().setPhase(phase).setDetail(detail).setPhaseMillis(phaseMillis)
            .setTracker(tracker)).build();
  }

  static MigrationEvent finished(MigrationInfo info, long seq, long at) {
    return MigrationEvent.newBuilder().setMigrationId(info.getId()).setSequence(seq).setAtUnixMillis(at)
        .setFinished(info).build();
  }

  static boolean terminal(MigrationStateRecord s) {
    return RecordCodec.terminal(s.getPhase());
  }
}

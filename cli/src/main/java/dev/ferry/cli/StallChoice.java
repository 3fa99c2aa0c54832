package dev.ferry.cli;

import dev.ferry.proto.StallAction;

/** {@code --on-stall}: lower-case constants so that help and completion show what to type. */
public enum StallChoice {
    throttle(StallAction.STALL_THROTTLE),
    freeze(StallAction.STALL_FREEZE),
    abort(StallAction.STALL_ABORT);

    private final StallAction action;

    StallChoice(StallAction action) {
        this.action = action;
    }

    public StallAction action() {
        return action;
    }
}

#!/usr/bin/python3
# baseline.py - the plain-script way to do edgemon's job, for `make bench` to compare.
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
# What a site integrator writes in an afternoon with Debian's python3-pymodbus and
# python3-paho-mqtt: poll the demo site's three devices (seplos-v3 unit 1,
# epever-tracer unit 2, sunspec inverter unit 3, the simulator's register blocks)
# every second, turn the registers into a small JSON object and publish it at QoS 1,
# with paho's own network thread and automatic reconnect. No queue, no seq store, no
# validation: a lower bound on the work, so the comparison flatters the script.
#   baseline.py MODBUS_PORT MQTT_PORT
import json
import sys
import time

import paho.mqtt.client as mqtt
from pymodbus.client import ModbusTcpClient

# (unit, function, address, count) per device: the blocks edgemon's profiles read.
DEVICES = {
    "bms-1": [(1, "input", 0x1000, 17), (1, "input", 0x1100, 26), (1, "discrete", 0x1200, 128)],
    "mppt-1": [(2, "input", 0x3100, 19), (2, "input", 0x311A, 4), (2, "input", 0x3200, 3),
               (2, "input", 0x3300, 31)],
    "inv-1": [(3, "holding", 40070, 52), (3, "holding", 40122, 48)],
}


def main():
    mb_port, mq_port = int(sys.argv[1]), int(sys.argv[2])
    mb = ModbusTcpClient("127.0.0.1", port=mb_port, timeout=1)  # 3.0.0rc1 cannot connect with < 1 s
    mq = mqtt.Client(client_id="baseline")
    mq.reconnect_delay_set(min_delay=1, max_delay=30)
    mq.connect_async("127.0.0.1", mq_port)
    mq.loop_start()
    seq = {d: 0 for d in DEVICES}
    nxt = time.monotonic()
    while True:
        for dev, reads in DEVICES.items():
            values = {}
            try:
                for unit, fn, addr, count in reads:
                    if fn == "input":
                        r = mb.read_input_registers(addr, count, slave=unit)
                        regs = r.registers
                    elif fn == "holding":
                        r = mb.read_holding_registers(addr, count, slave=unit)
                        regs = r.registers
                    else:
                        r = mb.read_discrete_inputs(addr, count, slave=unit)
                        regs = [int(b) for b in r.bits]
                    for i, v in enumerate(regs):
                        values["r%d" % (addr + i)] = v
            except Exception:  # a plain script skips the reading and goes on
                continue
            seq[dev] += 1
            msg = {"dataset": "x", "id": dev, "seq": seq[dev],
                   "ts": int(time.time() * 1000), "values": values}
            mq.publish("monitoring/x/" + dev, json.dumps(msg), qos=1)
        nxt += 1.0
        time.sleep(max(0.0, nxt - time.monotonic()))


if __name__ == "__main__":
    main()

# Switch below a root port of an expander bridge (two devices under the switch),
# plus an NVMe on pcie.0's root port.
pxb pxb1 0x20
rp rp1 pxb1 0x0
sw sw1 rp1 2
nvme nvme1 sw1.d0
nvme nvme2 sw1.d1
rp rp2 pcie.0 0x2
nvme nvme3 rp2

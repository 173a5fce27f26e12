include $(sort $(wildcard $(BR2_EXTERNAL_NUWA_PATH)/package/*/*.mk))
